using System.Diagnostics;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Ledger;
using static TorchSharp.torch;
using NoirCode.Protocol;

namespace NoirCode.Privacy.Tests;

/// <summary>Charging a block of tokens ahead (one fsync per block, not per send), settled with the true count.</summary>
public class LedgerReservationTests
{
    static readonly DateTimeOffset Monday = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    [Test]
    public void AReservationChargesTheBlockNowAndSettlingLeavesWhatWasSent()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        var r = ledger.Reserve("ws", "k", 64, 6400, Monday);
        Assert.That(ledger.Sum(_ => true), Is.EqualTo(new ExposureCount(64, 6400, 0)), "charged in full before anything is sent");
        for (int i = 0; i < 10; i++) Assert.That(r.TryConsume(1, 100), Is.True);
        Assert.That(r.TryConsume(55, 100), Is.False, "more than is left");
        r.Settle();
        Assert.That(ledger.Sum(_ => true), Is.EqualTo(new ExposureCount(10, 1000, 10)));
        Assert.That(r.TryConsume(1, 100), Is.False, "a settled block is spent");
        r.Settle();
        Assert.That(ledger.Sum(_ => true).Tokens, Is.EqualTo(10), "settling twice records once");
        ledger.Charge("ws", "k", 3, 30, Monday);
        Assert.That(ledger.Sum(_ => true), Is.EqualTo(new ExposureCount(13, 1030, 11)), "v1 charges and v2 reservations add up");
    }

    [Test]
    public void TheGuardChargesEverySendFromBlocksWithFewerFsyncs()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        var guard = new EgressGuard(64, WireDtype.Float16, ledger, "ws", "key1", chargeBlock: 32);
        using var one = randn(1, 1, 64);
        using var prompt = randn(1, 50, 64);
        guard.Admit(prompt, EgressKind.HiddenStates, 0); // larger than a block: reserved exactly
        for (int i = 0; i < 40; i++) guard.Admit(one, EgressKind.HiddenStates, 50 + i);
        long sent = 90, bytes = 90 * 64 * 2;
        var before = ledger.Sum(_ => true);
        Assert.That(before.Tokens, Is.InRange(sent, sent + 32), "everything sent is charged already; at most a block more");
        string journal = Directory.GetFiles(ledger.Folder, "journal-*.log").Single();
        Assert.That(File.ReadAllLines(journal), Has.Length.LessThanOrEqualTo(6), "a few reservations and settlements, not 41 charges");
        guard.Dispose();
        Assert.That(ledger.Sum(_ => true), Is.EqualTo(new ExposureCount(sent, bytes, 41)), "settled: exactly what was sent, every request");
    }

    [Test]
    public void ReservedTokensCountAgainstTheBudgetButTheGuardMaySendThem()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        var guard = new EgressGuard(64, WireDtype.Float16, ledger, "ws", "key1", new ExposureBudget(20), chargeBlock: 16);
        using var one = randn(1, 1, 64);
        for (int i = 0; i < 20; i++) guard.Admit(one, EgressKind.HiddenStates, i);
        Assert.That(ledger.Sum(_ => true).Tokens, Is.EqualTo(20), "the second block was cut to what the budget had left");
        Assert.Throws<ExposureBudgetExceededException>(() => guard.Admit(one, EgressKind.HiddenStates, 20));
        guard.Dispose();
        Assert.That(ledger.Sum(_ => true).Tokens, Is.EqualTo(20));
    }

    [Test]
    public void AWriterKilledMidBlockLosesNoCharge()
    {
        string folder = Fixtures.NewFolder("ledger-kill-block");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NoirCode.LedgerWriter.dll"));
        psi.ArgumentList.Add(folder);
        psi.ArgumentList.Add("1000000");
        psi.ArgumentList.Add("16");
        using var writer = Process.Start(psi)!;
        int acknowledged = 0;
        var target = 100 + Random.Shared.Next(200);
        while (acknowledged < target && writer.StandardOutput.ReadLine() is { } line) acknowledged = int.Parse(line.Split(' ')[1]);
        writer.Kill(); // SIGKILL mid-block: the open reservation is never settled
        writer.WaitForExit();
        string? rest;
        while ((rest = writer.StandardOutput.ReadLine()) != null) acknowledged = int.Parse(rest.Split(' ')[1]);
        long recorded = new ExposureLedger(folder).Sum(_ => true).Tokens;
        Assert.That(recorded, Is.InRange(acknowledged, acknowledged + 16), "every send acknowledged is charged; at most the open block's rest more");
    }
}
