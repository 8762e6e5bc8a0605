using System.Diagnostics;
using System.Text.Json.Nodes;

namespace NoirCode.Cli.Tests;

/// <summary>Runs the real noir CLI in its own process and captures what a user would see.</summary>
public static class NoirProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public JsonObject Json => JsonNode.Parse(Stdout)!.AsObject();
    }

    public static readonly string LedgerFolder = Path.Combine(Path.GetTempPath(), $"noir-cli-tests-ledger-{Environment.ProcessId}");

    public static Result Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "noir.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("NOIR_DEBUG");
        psi.Environment["NOIR_LEDGER_DIR"] = LedgerFolder; // never the user's real ledger
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); Assert.Fail($"noir {string.Join(' ', args)} did not finish in 3 minutes"); }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static Result Ok(params string[] args)
    {
        var r = Run(args);
        Assert.That(r.ExitCode, Is.EqualTo(0), $"noir {string.Join(' ', args)} failed: {r.Stderr}");
        return r;
    }
}
