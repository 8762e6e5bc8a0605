using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using static TorchSharp.torch;

namespace NoirCode.Attack.Wire;

/// <summary>
/// A client configuration whose traffic is attacked: the client model (public, or a tuned shard), optionally
/// under privacy keys. <see cref="CloudView"/> returns exactly what the cloud receives for a token sequence:
/// the encoder output, admitted by the egress guard, encoded in the wire dtype and decoded as the endpoint does.
/// </summary>
public sealed class ClientUnderTest : IDisposable
{
    public string Name { get; }
    public ClientModel Client { get; }
    public PrivacyKeys? Keys { get; }
    public WireDtype Wire { get; }
    readonly IVocabularyMapping? _mapping;
    readonly EgressGuard _guard;
    readonly WireCapture _capture = new();

    public ClientUnderTest(string name, ClientModel client, PrivacyKeys? keys, WireDtype wire = WireDtype.Float16)
    {
        Name = name; Client = client; Keys = keys; Wire = wire;
        _mapping = keys?.ApplyTo(client);
        _guard = new EgressGuard(client.Config.HiddenSize, wire, ledger: null, keyId: keys?.Metadata.KeyId ?? "none");
        _guard.AddTap(_capture);
    }

    /// <summary>Loads a client (whole model, client shard or tuned shard) and applies the keys if given.</summary>
    public static ClientUnderTest Load(string name, string modelFolder, string? keysFolder, SplitSpec? split = null, WireDtype wire = WireDtype.Float16)
    {
        var client = ClientModel.Load(modelFolder, split, untieHead: keysFolder != null);
        PrivacyKeys? keys = null;
        if (keysFolder != null)
        {
            keys = PrivacyKeys.Load(keysFolder, ModelFingerprint.Of(modelFolder));
            Remote.SplitFineTuner.CheckBinding(modelFolder, keys.Metadata.KeyId);
        }
        return new ClientUnderTest(name, client, keys, wire);
    }

    /// <summary>What the cloud receives for these tokens sent from position 0: float32 [T, D].</summary>
    public Tensor CloudView(IReadOnlyList<int> tokens)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var ids = tensor(tokens.Select(t => (long)(_mapping?.ToIndex(t) ?? t)).ToArray()).unsqueeze(0);
        var positions = arange(tokens.Count);
        var encoded = Client.Encode(ids, positions, cache: null);
        var packet = _guard.Admit(encoded, EgressKind.HiddenStates, 0);
        if (!ReferenceEquals(_capture.Last, packet)) throw new InvalidOperationException("the wire capture missed a packet");
        return HiddenStateCodec.Decode(packet.Payload, packet.Dtype, packet.Tokens, packet.HiddenSize)[0].MoveToOuterDisposeScope();
    }

    public void Dispose() => Client.Dispose();

    sealed class WireCapture : IEgressTap
    {
        public EgressPacket? Last { get; private set; }
        public void Observe(EgressPacket packet) => Last = packet;
    }
}
