using NoirCode.Attack.Evaluation;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using static TorchSharp.torch;
using NoirCode.Protocol;

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
    readonly Privacy.SecretGaussianNoise? _noise;

    /// <param name="residualNoise">σ of the per-occurrence noise the client adds before sending (0: none)</param>
    public ClientUnderTest(string name, ClientModel client, PrivacyKeys? keys, WireDtype wire = WireDtype.Float16, double residualNoise = 0)
    {
        Name = name; Client = client; Keys = keys; Wire = wire;
        if (residualNoise > 0) _noise = new Privacy.SecretGaussianNoise(residualNoise);
        _mapping = keys?.ApplyTo(client);
        _guard = new EgressGuard(client.Config.HiddenSize, wire, ledger: null, keyId: keys?.Metadata.KeyId ?? "none");
        _guard.AddTap(_capture);
    }

    /// <summary>Loads a client (whole model, client shard or tuned shard) and applies the keys if given.</summary>
    public static ClientUnderTest Load(string name, string modelFolder, string? keysFolder, SplitSpec? split = null, WireDtype wire = WireDtype.Float16,
        double residualNoise = 0)
    {
        var client = ClientModel.Load(modelFolder, split, untieHead: keysFolder != null);
        PrivacyKeys? keys = null;
        if (keysFolder != null)
        {
            keys = PrivacyKeys.Load(keysFolder, ModelFingerprint.Of(modelFolder));
            TunedShardBinding.Check(modelFolder, keys.Metadata.KeyId);
        }
        return new ClientUnderTest(name, client, keys, wire, residualNoise);
    }

    /// <summary>Opens the client a report setting names; fresh keys are made in memory (never saved), and a
    /// note says when their ε is below the model's Theorem 1 minimum.</summary>
    public static ClientUnderTest ForSetting(SettingSpec spec, string publicModel, SplitSpec split, WireDtype wire, string fingerprint, List<string> notes)
    {
        if (spec.FreshEpsilon is double eps)
        {
            var client = ClientModel.Load(spec.ClientFolder, split, untieHead: true);
            var (embedding, dtype) = PrivacyKeys.ReadEmbedding(publicModel, client.Config);
            var (keys, stats) = PrivacyKeys.Generate(embedding, client.Config, fingerprint, eps, label: "attack-harness", tableDtype: dtype, homophones: spec.Homophones);
            if (!stats.Theorem1Holds)
                notes.Add($"{spec.Name}: ε = {eps} is below this model's Theorem 1 minimum ({stats.Theorem1MinEpsilon:G3}); keys made anyway for the measurement.");
            return new ClientUnderTest(spec.Name, client, keys, wire, spec.ResidualNoise);
        }
        return Load(spec.Name, spec.ClientFolder, spec.KeysFolder, split, wire, spec.ResidualNoise);
    }

    /// <summary>What the cloud receives for these tokens sent from position 0: float32 [T, D].</summary>
    public Tensor CloudView(IReadOnlyList<int> tokens)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var ids = tensor(tokens.Select(t => (long)(_mapping?.ToInputIndex(t) ?? t)).ToArray()).unsqueeze(0);
        var positions = arange(tokens.Count);
        var encoded = Client.FirstBlocks(ids, positions, cache: null);
        // What ResidualMask sends; the cancellation happens on the client's side of the wire, so it is not needed here.
        if (_noise != null) encoded = encoded + _noise.Next(encoded.shape).to(encoded.dtype);
        var packet = _guard.Admit(encoded, EgressKind.HiddenStates, 0);
        if (!ReferenceEquals(_capture.Last, packet)) throw new InvalidOperationException("the wire capture missed a packet");
        return packet.Decode()[0].MoveToOuterDisposeScope();
    }

    public void Dispose() { Client.Dispose(); _noise?.Dispose(); }

    sealed class WireCapture : IEgressTap
    {
        public EgressPacket? Last { get; private set; }
        public void Observe(EgressPacket packet) => Last = packet;
    }
}
