namespace NoirCode.Privacy.Keys;

/// <summary>Owner-only files and folders (0600 in 0700), as ssh does for private keys.</summary>
public static class SecureFiles
{
    public const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                                      UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows()) { Directory.CreateDirectory(path); return; }
        Directory.CreateDirectory(path, OwnerFolder);
        File.SetUnixFileMode(path, OwnerFolder); // also when it already existed
    }

    /// <summary>Writes a file that is 0600 from the moment it exists, then renames it into place.</summary>
    public static void WriteAllText(string path, string text)
    {
        string tmp = path + ".tmp";
        File.Delete(tmp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerFile;
        using (var fs = new FileStream(tmp, options))
        using (var w = new StreamWriter(fs)) w.Write(text);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Refuses a secret that other users could read or change.</summary>
    public static void CheckOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        var mode = File.GetUnixFileMode(path);
        if ((mode & GroupOrOther) != 0)
            throw new UnauthorizedAccessException(
                $"{path} is accessible to other users (mode {Convert.ToString((int)mode, 8)}); privacy keys must be owner-only: chmod {(Directory.Exists(path) ? "700" : "600")} {path}");
    }
}
