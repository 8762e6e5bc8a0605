using System.Diagnostics;

namespace NoirCode.Evaluation;

/// <summary>
/// Runs generated code against its tests: a separate python3 process, isolated mode, in a throwaway folder,
/// with a time limit, and without network (a fresh network namespace via unshare where the system allows it).
/// </summary>
public static class PythonTestRunner
{
    static readonly Lazy<bool> CanIsolateNetwork = new(() => Run(new[] { "unshare", "-rn", "true" }, TimeSpan.FromSeconds(5), null).Exited0);

    public static bool NetworkIsolated => CanIsolateNetwork.Value;

    /// <returns>whether the program ran to completion with exit code 0 within the time limit</returns>
    public static bool Passes(string program, TimeSpan timeLimit)
    {
        string dir = Directory.CreateTempSubdirectory("noir-eval-").FullName;
        try
        {
            string file = Path.Combine(dir, "candidate.py");
            File.WriteAllText(file, program);
            var command = new List<string>();
            if (CanIsolateNetwork.Value) command.AddRange(new[] { "unshare", "-rn" });
            command.AddRange(new[] { "python3", "-I", "-B", file });
            return Run(command, timeLimit, dir).Exited0;
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    static (bool Exited0, bool TimedOut) Run(IReadOnlyList<string> command, TimeSpan limit, string? workingDirectory)
    {
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        if (workingDirectory != null) psi.WorkingDirectory = workingDirectory;
        try
        {
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEndAsync();
            p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(limit)) { p.Kill(entireProcessTree: true); return (false, true); }
            return (p.ExitCode == 0, false);
        }
        catch (System.ComponentModel.Win32Exception) { return (false, false); }
    }
}
