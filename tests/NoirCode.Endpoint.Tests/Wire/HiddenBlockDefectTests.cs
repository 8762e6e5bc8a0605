using Google.Protobuf;
using NoirCode.Protocol;
using static TorchSharp.torch;

namespace NoirCode.Endpoint.Tests.Wire;

/// <summary>Defects the outside review of issue #18 found in the block codec and the endpoint's use of it.</summary>
public class HiddenBlockDefectTests
{
    static int Hidden => Clients.Client.Config.HiddenSize;

    static HiddenBlock Filled(int tokens, float value) => new()
    {
        Dtype = WireDtype.Float32, Tokens = (uint)tokens, Hidden = (uint)Hidden,
        Data = ByteString.CopyFrom(Enumerable.Range(0, tokens * Hidden).SelectMany(_ => BitConverter.GetBytes(value)).ToArray()),
    };

    /// <summary>A refused block (the gradient or hidden state a bad client sends) must not leave tensors behind:
    /// the endpoint decodes every request with this, for as long as it runs.</summary>
    [Test]
    public void ARefusedBlockLeavesNoTensorBehind()
    {
        var block = Filled(3, float.NaN);
        int hidden = Hidden; // the client model loads outside the scope
        using var scope = NewDisposeScope();
        Assert.That(Assert.Throws<ArgumentException>(() => HiddenBlocks.Decode(block, hidden, 8))!.Message, Does.Contain("finite"));
        Assert.That(scope.DisposablesCount, Is.EqualTo(0), "tensors left undisposed by a refused decode");
    }

    [Test]
    public void AnAcceptedBlockLeavesOnlyItsResult()
    {
        var block = Filled(3, 0.5f);
        int hidden = Hidden;
        using var scope = NewDisposeScope();
        using (HiddenBlocks.Decode(block, hidden, 8)) { }
        Assert.That(scope.DisposablesCount, Is.EqualTo(0), "tensors left undisposed by a decode");
    }

    /// <summary>An unknown reply dtype was sent as int8 without a word (a lossy encoding nobody asked for).</summary>
    [Test]
    public void AnUnknownReplyDtypeIsAClearErrorNotInt8()
    {
        var options = Clients.Options(new[] { new Uri("http://127.0.0.1:1") }) with { ReplyDtype = (Protocol.WireDtype)99 };
        var e = Assert.Throws<ArgumentException>(() => Clients.Remote(options, new Privacy.Egress.EgressGuard(Hidden, Protocol.WireDtype.Float32)))!;
        Assert.That(e.Message, Does.Contain("unknown wire dtype 99"));
    }
}
