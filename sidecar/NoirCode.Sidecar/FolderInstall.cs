using System.Diagnostics;

namespace NoirCode.Sidecar;

/// <summary>
/// Puts a folder into the user's cache whole: it is built beside its place under a name of this process
/// (<c>FOLDER.tmp-PID</c>) and moved in at the end, so a reader never sees half of it and a copy another sidecar
/// finished first is kept, never replaced. Building folders that a killed sidecar left (its process is gone) are
/// removed on every call, a finished copy there or not: a split of a large model would otherwise leave gigabytes
/// behind in the cache, for good once another sidecar had finished the folder.
/// </summary>
public static class FolderInstall
{
    const string Marker = ".tmp-";

    /// <param name="folder">where the finished folder goes</param>
    /// <param name="complete">whether a finished copy is there (another process's, or an earlier run's)</param>
    /// <param name="fill">builds the folder's content in the folder it is given; not called when a finished copy is there</param>
    public static void Install(string folder, Func<bool> complete, Action<string> fill)
    {
        SweepAbandoned(folder);
        if (complete()) return;
        string tmp = BuildingFolder(folder, Environment.ProcessId);
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        try
        {
            fill(tmp);
            if (complete()) { Directory.Delete(tmp, true); return; } // another sidecar finished first: keep its copy
            if (Directory.Exists(folder)) Directory.Delete(folder, true); // an incomplete copy, never a complete one
            Directory.Move(tmp, folder);
        }
        catch (IOException) when (complete()) { if (Directory.Exists(tmp)) Directory.Delete(tmp, true); } // lost the race to move
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true); // nothing half-installed stays behind
            throw;
        }
    }

    /// <summary>Where process <paramref name="pid"/> builds <paramref name="folder"/>.</summary>
    public static string BuildingFolder(string folder, int pid) => folder + Marker + pid;

    /// <summary>Removes the building folders of <paramref name="folder"/> whose process no longer runs (a reused pid
    /// keeps one: the safe side).</summary>
    static void SweepAbandoned(string folder)
    {
        string? parent = Path.GetDirectoryName(folder);
        if (parent == null || !Directory.Exists(parent)) return;
        foreach (var candidate in Directory.EnumerateDirectories(parent, Path.GetFileName(folder) + Marker + "*"))
        {
            string suffix = candidate[(folder.Length + Marker.Length)..];
            if (!int.TryParse(suffix, out int pid) || pid == Environment.ProcessId || Running(pid)) continue;
            try { Directory.Delete(candidate, true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // another sweeper got there first
        }
    }

    static bool Running(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
