using System.Diagnostics;
using NoirCode.Privacy.Ledger;

namespace NoirCode.Privacy.Tests;

/// <summary>
/// The budget check is exact across processes: two real writer processes (as two editor windows, each with its own
/// sidecar) hammer one ledger file near the limit, and the ledger never holds more than the limit. The same hammering
/// with the check made outside the lock overshoots, so this test would catch a non-atomic check.
/// </summary>
public class LedgerBudgetConcurrencyTests
{
    // The exact check gets enough headroom that the two writers overlap for a long stretch even when one of them is
    // scheduled late (480 sends took ~0.1 s, and one writer sometimes finished before the other woke); the racy check
    // sleeps between its read and its charge, so a small headroom already shows the overshoot.
    const long RaceLimit = 4_000, RacyCheckLimit = 600, AlreadyUsed = 120;

    [Test]
    public void TwoWriterProcessesNearTheLimitNeverOvershoot()
    {
        const long Limit = RaceLimit;
        // A round where one writer is scheduled so late that the other uses the whole budget alone proves nothing
        // about racing (it still must not overshoot); a few rounds, and at least one must be a real race.
        bool raced = false;
        for (int round = 0; round < 4 && !raced; round++)
        {
            var (folder, go) = NearlySpentLedger();
            // One writer charges send by send, the other from blocks of 16, as the egress guard does.
            var writers = new[] { StartWriter(folder, go, Limit, "0"), StartWriter(folder, go, Limit, "16") };
            File.WriteAllText(go, "");
            var observed = new List<long>();
            while (writers.Any(w => !w.Process.HasExited))
            {
                observed.Add(new ExposureLedger(folder).Sum(_ => true).Tokens); // reservations included
                Thread.Sleep(5);
            }
            var outputs = writers.Select(w => w.Output.Result).ToArray();
            long total = new ExposureLedger(folder).Sum(_ => true).Tokens;
            var acks = outputs.Select(o => o.Count(l => l.StartsWith("ack ", StringComparison.Ordinal))).ToArray();
            Assert.That(observed, Has.All.LessThanOrEqualTo(Limit), "never over the limit, not even for a moment");
            Assert.That(total, Is.EqualTo(Limit), "the budget is used to the last token, and not one more");
            Assert.That(acks.Sum(), Is.EqualTo(Limit - AlreadyUsed), "every acknowledged send fitted in the budget");
            Assert.That(outputs, Has.All.Contains("refused"), "both writers were stopped by the budget, not by running out of sends");
            raced = acks.All(a => a > 0);
        }
        Assert.That(raced, Is.True, "in some round both writers sent some: they raced");
    }

    [Test]
    public void TheSameHammeringCatchesACheckMadeOutsideTheLock()
    {
        // A check that reads the use and then charges in a second step lets two writers pass it on the same last
        // token. The overshoot depends on timing, so a few rounds; one is enough to show the hammering can see it.
        const long Limit = RacyCheckLimit;
        long worst = 0;
        for (int round = 0; round < 8 && worst <= Limit; round++)
        {
            var (folder, go) = NearlySpentLedger();
            var writers = new[] { StartWriter(folder, go, Limit, "0", "--check-outside-lock"), StartWriter(folder, go, Limit, "0", "--check-outside-lock") };
            File.WriteAllText(go, "");
            foreach (var w in writers) { w.Process.WaitForExit(); _ = w.Output.Result; }
            worst = Math.Max(worst, new ExposureLedger(folder).Sum(_ => true).Tokens);
        }
        Assert.That(worst, Is.GreaterThan(Limit), "a non-atomic check overshoots under this load");
    }

    static (string Folder, string Go) NearlySpentLedger()
    {
        string folder = Fixtures.NewFolder("ledger-budget-race");
        new ExposureLedger(folder).Charge("ws-kill-test", "key-kill-test", AlreadyUsed, 100 * AlreadyUsed);
        return (folder, Path.Combine(folder, "go")); // beside the ledger: the ledger ignores other files
    }

    static (Process Process, Task<string[]> Output) StartWriter(string folder, string go, long limit, string block, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NoirCode.LedgerWriter.dll"));
        foreach (var a in new[] { folder, "100000", block, "--limit", limit.ToString(), "--start-when", go }.Concat(extra)) psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        // Started and waiting at the barrier before the test opens it, so that the writers really race.
        Assert.That(process.StandardOutput.ReadLine(), Is.EqualTo("ready"));
        var output = Task.Run(() =>
        {
            var lines = new List<string>();
            while (process.StandardOutput.ReadLine() is { } line) lines.Add(line);
            process.WaitForExit();
            return lines.ToArray();
        });
        return (process, output);
    }
}
