using System.Diagnostics;
using NoirCode.Privacy.Ledger;

namespace NoirCode.Privacy.Tests;

public class LedgerTests
{
    static readonly DateTimeOffset Monday = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    [Test]
    public void TotalsArePerDayWorkspaceAndKey()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        ledger.Charge("ws1", "k1", 10, 1000, Monday);
        ledger.Charge("ws1", "k1", 5, 500, Monday.AddHours(1));
        ledger.Charge("ws2", "k1", 7, 700, Monday);
        ledger.Charge("ws1", "k2", 3, 300, Monday.AddDays(1));
        var totals = ledger.Totals();
        Assert.That(totals[("2026-11-23", "ws1", "k1")], Is.EqualTo(new ExposureCount(15, 1500, 2)));
        Assert.That(totals[("2026-11-23", "ws2", "k1")], Is.EqualTo(new ExposureCount(7, 700, 1)));
        Assert.That(totals[("2026-11-24", "ws1", "k2")], Is.EqualTo(new ExposureCount(3, 300, 1)));
        Assert.That(ledger.Sum(k => k.Key == "k1").Tokens, Is.EqualTo(22));
        Assert.That(new ExposureLedger(ledger.Folder).Totals(), Is.EquivalentTo(totals), "another process sees the same");
    }

    [Test]
    public void WorkspacePathsAreNeverStored()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("l-ids"));
        ledger.Charge(WorkspaceIds.For(ledger.Folder, "/home/alice/secret-project"), "k", 5, 10);
        ledger.Compact(DateTimeOffset.UtcNow.AddDays(2)); // today's journal folded into the summary too
        foreach (var file in Directory.GetFiles(ledger.Folder))
            Assert.That(File.ReadAllText(file), Does.Not.Contain("alice").And.Not.Contain("secret-project"), Path.GetFileName(file));
        Assert.That(ledger.Sum(_ => true).Tokens, Is.EqualTo(5));
        Assert.Throws<ArgumentException>(() => ledger.Charge("/home/alice", "k", 1, 1), "a path is not an id");
    }

    [Test]
    public void CompactionFoldsPastDaysWithoutDoubleCounting()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        ledger.Charge("ws", "k", 10, 100, Monday.AddDays(-2));
        ledger.Charge("ws", "k", 20, 200, Monday.AddDays(-1));
        ledger.Charge("ws", "k", 30, 300, Monday);
        var before = ledger.Totals();
        string oldJournal = Directory.GetFiles(ledger.Folder, "journal-2026-11-21.log").Single();
        byte[] saved = File.ReadAllBytes(oldJournal);
        ledger.Compact(Monday);
        Assert.That(Directory.GetFiles(ledger.Folder, "journal-*.log").Select(Path.GetFileName), Is.EqualTo(new[] { "journal-2026-11-23.log" }));
        Assert.That(ledger.Totals(), Is.EquivalentTo(before));
        // A crash after the summary was renamed into place but before the old journal was deleted:
        File.WriteAllBytes(oldJournal, saved);
        Assert.That(ledger.Totals(), Is.EquivalentTo(before), "a journal the summary already holds counts once");
        ledger.Compact(Monday);
        Assert.That(File.Exists(oldJournal), Is.False);
        Assert.That(ledger.Totals(), Is.EquivalentTo(before));
    }

    [Test]
    public void ATornLineCountsForNothingAndTheNextChargeStillCounts()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        ledger.Charge("ws", "k", 1, 10, Monday);
        string journal = Directory.GetFiles(ledger.Folder, "journal-*.log").Single();
        File.AppendAllText(journal, "v1 0123456789abcdef 1763892000000 ws k 999"); // a write cut short
        ledger.Charge("ws", "k", 2, 20, Monday);
        Assert.That(ledger.Sum(_ => true), Is.EqualTo(new ExposureCount(3, 30, 2)));
    }

    [Test]
    public void AWriterKilledMidStreamLosesNothingAcknowledgedAndCountsNothingTwice()
    {
        string folder = Fixtures.NewFolder("ledger-kill");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NoirCode.LedgerWriter.dll"));
        psi.ArgumentList.Add(folder);
        psi.ArgumentList.Add("1000000");
        using var writer = Process.Start(psi)!;
        int acknowledged = 0;
        var target = 100 + Random.Shared.Next(200);
        while (acknowledged < target && writer.StandardOutput.ReadLine() is { } line) acknowledged = int.Parse(line.Split(' ')[1]);
        writer.Kill(); // SIGKILL: no chance to finish a write or clean up
        writer.WaitForExit();
        // Lines already printed but not yet read count as acknowledged too.
        string? rest;
        while ((rest = writer.StandardOutput.ReadLine()) != null) acknowledged = int.Parse(rest.Split(' ')[1]);
        long recorded = new ExposureLedger(folder).Sum(_ => true).Requests;
        Assert.That(recorded, Is.InRange(acknowledged, acknowledged + 1), "every acknowledged charge, plus at most the one in flight");
        Assert.That(new ExposureLedger(folder).Sum(_ => true).Tokens, Is.EqualTo(recorded));
    }

    [Test]
    public void BudgetWarnsAtEightyPercentAndActsAtTheLimit()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        var budget = new ExposureBudget(100, BudgetPeriod.Day, BudgetAction.LocalOnly);
        ledger.Charge("ws", "k", 79, 1, Monday);
        Assert.That(budget.Evaluate(ledger, "k", Monday).Level, Is.EqualTo(BudgetLevel.Ok));
        ledger.Charge("ws", "k", 1, 1, Monday);
        Assert.That(budget.Evaluate(ledger, "k", Monday).Level, Is.EqualTo(BudgetLevel.Warning));
        ledger.Charge("ws", "k", 20, 1, Monday);
        var state = budget.Evaluate(ledger, "k", Monday);
        Assert.That(state.Level, Is.EqualTo(BudgetLevel.Exhausted));
        Assert.That(state.Action, Is.EqualTo(BudgetAction.LocalOnly));
        Assert.That(budget.Evaluate(ledger, "other-key", Monday).Level, Is.EqualTo(BudgetLevel.Ok), "budgets are per key");
        Assert.That(budget.Evaluate(ledger, "k", Monday.AddDays(1)).UsedTokens, Is.Zero, "a new day starts a new period");
        var weekly = new ExposureBudget(1000, BudgetPeriod.Week);
        ledger.Charge("ws", "k", 5, 1, Monday.AddDays(-1)); // Sunday: the previous week
        Assert.That(weekly.Evaluate(ledger, "k", Monday.AddDays(3)).UsedTokens, Is.EqualTo(100));
    }

    [Test]
    public void AJournalIsReadOnlyWhereItGrewAndAReplacedOneWhole()
    {
        string folder = Fixtures.NewFolder("ledger");
        var reader = new ExposureLedger(folder);
        var writer = new ExposureLedger(folder); // another process, as far as the files go
        writer.Charge("ws", "k", 1, 10, Monday);
        Assert.That(reader.Sum(_ => true).Tokens, Is.EqualTo(1));
        writer.Charge("ws", "k", 2, 20, Monday);
        Assert.That(reader.Sum(_ => true), Is.EqualTo(new ExposureCount(3, 30, 2)), "what was appended since the last read");
        string journal = Directory.GetFiles(folder, "journal-*.log").Single();
        File.AppendAllText(journal, "v1 0123456789abcdef 1763892000000 ws k 999"); // a write cut short
        Assert.That(reader.Sum(_ => true).Tokens, Is.EqualTo(3));
        writer.Charge("ws", "k", 4, 40, Monday);
        Assert.That(reader.Sum(_ => true), Is.EqualTo(new ExposureCount(7, 70, 3)), "the torn line counts for nothing once ended, the next charge counts");
        var other = new ExposureLedger(Fixtures.NewFolder("ledger"));
        other.Charge("ws", "k", 100, 1000, Monday);
        other.Charge("ws", "k", 200, 2000, Monday);
        File.Copy(Directory.GetFiles(other.Folder, "journal-*.log").Single(), journal, overwrite: true);
        Assert.That(reader.Sum(_ => true).Tokens, Is.EqualTo(300), "another file under the same name is read whole");
    }

    [Test]
    public void AKeysWholeLifeIsOnePeriodAndItsLimitIsExact()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        var budget = new ExposureBudget(100, BudgetPeriod.Key);
        ledger.Charge("ws", "k", 40, 1, Monday.AddDays(-40)); // another month
        ledger.Charge("ws2", "k", 50, 1, Monday);            // another workspace, same key
        ledger.Charge("ws", "other", 500, 1, Monday);
        Assert.That(budget.Evaluate(ledger, "k", Monday.AddDays(90)).UsedTokens, Is.EqualTo(90), "a key's whole life, every workspace");
        ledger.Charge("ws", "k", 10, 1, Monday, within: budget); // exactly to the limit
        var refused = Assert.Throws<ExposureBudgetExceededException>(() => ledger.Charge("ws", "k", 1, 1, Monday, within: budget))!;
        Assert.That(refused.Message, Does.Contain("rotate the keys"));
        Assert.That(() => ledger.ReserveWithin(budget, "ws", "k", 1, 64, n => n), Throws.InstanceOf<ExposureBudgetExceededException>());
        Assert.That(ledger.Sum(k => k.Key == "k").Tokens, Is.EqualTo(100), "a refused charge records nothing");
        var other = ledger.ReserveWithin(new ExposureBudget(520, BudgetPeriod.Key), "ws", "other", 1, 64, n => n);
        Assert.That(other.Tokens, Is.EqualTo(20), "a block is cut to what the budget has left");
    }

    [Test]
    public void BoundsReproduceThePaperAndSayWhenTheyAreVacuous()
    {
        // Paper (§6.2): ε = 13, |x| = 200, |V| ≈ 152k → 5.5e-11 (Eq. 4 with ρ = 0.4).
        Assert.That(ExposureBounds.PromptReconstruction(13, 151_936, 200), Is.EqualTo(5.5e-11).Within(0.05e-11));
        Assert.That(ExposureBounds.PerTokenGuess(13, 151_936), Is.EqualTo(0.74).Within(0.01));
        Assert.That(ExposureBounds.PerTokenGuess(13, 32_000), Is.EqualTo(0.93).Within(0.01));
        Assert.That(ExposureBounds.IsVacuous(ExposureBounds.PromptReconstruction(27, 151_936, 200)), Is.True);
        Assert.That(ExposureBounds.Describe(27, 151_936), Does.Contain("vacuous"));
        Assert.That(ExposureBounds.Describe(1, 151_936), Does.Contain("at most").And.Not.Contain("vacuous"));
        Assert.That(ExposureBounds.Describe(1, 151_936), Does.StartWith("assuming a uniform prior"), "never stated as a guarantee");
    }
}
