using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Ledger;
using static TorchSharp.torch;
using NoirCode.Protocol;

namespace NoirCode.Privacy.Tests;

public class EgressTests
{
    sealed class Tap : IEgressTap
    {
        public List<EgressPacket> Packets { get; } = new();
        public void Observe(EgressPacket packet) => Packets.Add(packet);
    }

    [Test]
    public void AdmitsHiddenStatesAndChargesTheLedger()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        var guard = new EgressGuard(64, WireDtype.Float16, ledger, "ws", "key1");
        var tap = new Tap();
        guard.AddTap(tap);
        using var hidden = randn(1, 5, 64);
        var packet = guard.Admit(hidden, EgressKind.HiddenStates, 10);
        Assert.That(packet.Payload, Has.Length.EqualTo(5 * 64 * 2), "fp16: 2 bytes per value, nothing else");
        Assert.That((packet.StartPosition, packet.Tokens), Is.EqualTo((10L, 5L)));
        Assert.That(tap.Packets, Has.Count.EqualTo(1));
        Assert.That(ledger.Sum(_ => true), Is.EqualTo(new ExposureCount(5, 640, 1)));
        using var back = packet.Decode();
        Assert.That((back - hidden).abs().max().item<float>(), Is.LessThan(0.01f));
    }

    [Test]
    public void RefusesAnythingButFiniteHiddenStates()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        var guard = new EgressGuard(64, WireDtype.Float16, ledger);
        var tap = new Tap();
        guard.AddTap(tap);
        using var ids = tensor(new long[] { 1, 2, 3 }).unsqueeze(0);
        using var logits = randn(1, 3, 520);
        using var nan = full(1, 3, 64, float.NaN);
        using var inf = full(1, 3, 64, float.PositiveInfinity);
        using var batch = randn(2, 3, 64);
        using var empty = zeros(1, 0, 64);
        Assert.That(Assert.Throws<EgressRejectedException>(() => guard.Admit(ids, EgressKind.HiddenStates, 0))!.Message, Does.Contain("token ids"));
        Assert.That(Assert.Throws<EgressRejectedException>(() => guard.Admit(logits, EgressKind.HiddenStates, 0))!.Message, Does.Contain("never logits"));
        Assert.That(Assert.Throws<EgressRejectedException>(() => guard.Admit(nan, EgressKind.HiddenStates, 0))!.Message, Does.Contain("NaN"));
        Assert.Throws<EgressRejectedException>(() => guard.Admit(inf, EgressKind.BoundaryGradient, 0));
        Assert.Throws<EgressRejectedException>(() => guard.Admit(batch, EgressKind.HiddenStates, 0));
        Assert.Throws<EgressRejectedException>(() => guard.Admit(empty, EgressKind.HiddenStates, 0));
        Assert.That(Assert.Throws<EgressRejectedException>(() => guard.AdmitObject("def secret(): pass", EgressKind.HiddenStates, 0))!.Message, Does.Contain("String"));
        Assert.Throws<EgressRejectedException>(() => guard.AdmitObject(new[] { 1, 2, 3 }, EgressKind.HiddenStates, 0));
        Assert.That(tap.Packets, Is.Empty);
        Assert.That(ledger.Totals(), Is.Empty, "refusals cost nothing");
    }

    [Test]
    public void ASpentBudgetStopsSendsBeforeAnythingLeaves()
    {
        var ledger = new ExposureLedger(Fixtures.NewFolder("ledger"));
        var guard = new EgressGuard(8, WireDtype.Float32, ledger, "ws", "k", new ExposureBudget(10));
        var tap = new Tap();
        guard.AddTap(tap);
        using var hidden = randn(1, 10, 8);
        guard.Admit(hidden, EgressKind.HiddenStates, 0);
        var e = Assert.Throws<ExposureBudgetExceededException>(() => guard.Admit(hidden, EgressKind.HiddenStates, 10))!;
        Assert.That(e.State.Action, Is.EqualTo(BudgetAction.Block));
        Assert.That(tap.Packets, Has.Count.EqualTo(1));
        Assert.That(ledger.Sum(_ => true).Tokens, Is.EqualTo(10));
    }

    [Test]
    public void DynamicPrefixIsShortRandomAndFresh()
    {
        var prefixes = Enumerable.Range(0, 200).Select(_ => DynamicPrefix.Create()).ToList();
        Assert.That(prefixes.All(p => p.Length is >= 1 and <= 8), Is.True);
        Assert.That(prefixes.Distinct().Count(), Is.GreaterThan(190));
        Assert.That(prefixes.Select(p => p.Length).Distinct().Count(), Is.EqualTo(8));
        Assert.That(DynamicPrefix.ApplyToCode("def f():\n"), Does.Match(@"^# <[^\s>]{1,8}>\ndef f\(\):\n$"));
    }

    /// <summary>An unknown wire dtype was encoded as something else without a word; it must be refused up front.</summary>
    [Test]
    public void AnUnknownWireDtypeIsRefusedWhenTheGuardIsMade()
    {
        var e = Assert.Throws<ArgumentException>(() => new EgressGuard(8, (WireDtype)99))!;
        Assert.That(e.Message, Does.Contain("unknown wire dtype 99"));
    }

    [Test]
    public void ARefusedTensorLeavesNoTensorBehind()
    {
        var guard = new EgressGuard(8, WireDtype.Float32);
        using var nan = full(1, 3, 8, float.NaN);
        using var scope = NewDisposeScope();
        Assert.Throws<EgressRejectedException>(() => guard.Admit(nan, EgressKind.HiddenStates, 0));
        Assert.That(scope.DisposablesCount, Is.EqualTo(0), "tensors left undisposed by a refusal");
    }
}
