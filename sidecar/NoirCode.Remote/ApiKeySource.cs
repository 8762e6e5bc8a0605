namespace NoirCode.Remote;

/// <summary>Where the client's API key comes from: the NOIR_API_KEY variable, or a file only its owner can read.</summary>
public static class ApiKeySource
{
    public static string? Resolve(string? keyFile)
    {
        if (keyFile != null)
        {
            if (!File.Exists(keyFile)) throw new IOException($"API key file {keyFile} does not exist");
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyFile) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
                throw new UnauthorizedAccessException($"API key file {keyFile} is readable by other users; chmod 600 {keyFile}");
            return File.ReadAllText(keyFile).Trim();
        }
        return Environment.GetEnvironmentVariable("NOIR_API_KEY") is { Length: > 0 } k ? k.Trim() : null;
    }
}
