using NoirCode.Core.Training;
using NoirCode.Privacy;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.STuning.LabelProtection;

/// <summary>
/// Makes the boundary gradient STuning sends for one sample (see <see cref="LabelProtectionSettings"/>): the
/// gradient of the loss over a secret random subset of the labelled positions, each row clipped to the sample's
/// median row norm C, plus N(0, (σC)²) noise on every coordinate of every row. Mask and noise are drawn from a
/// CSPRNG stream per sample under the secret, so the endpoint can neither predict nor replay them.
/// </summary>
public sealed class BoundaryGradientProtector
{
    readonly LabelProtectionSettings _settings;
    readonly byte[] _secret;

    /// <param name="secret">32 bytes (<see cref="LabelProtectionSecret"/>); may be null for forward-only, which draws nothing</param>
    public BoundaryGradientProtector(LabelProtectionSettings settings, byte[]? secret)
    {
        settings.Validate();
        if (!settings.ForwardOnly && secret is not { Length: 32 }) throw new ArgumentException("the label-protection secret must be 32 bytes");
        _settings = settings; _secret = secret ?? Array.Empty<byte>();
    }

    /// <summary>The gradient to send, [1, T, D], detached.</summary>
    /// <param name="logits">[T, V], still attached to <paramref name="middle"/> (the graph is kept for the local backward)</param>
    /// <param name="labels">[T] head indices, <see cref="FimSampler.IgnoreIndex"/> where ignored</param>
    /// <param name="middle">Ë [1, T, D], requires grad</param>
    /// <param name="sampleId">the sample's id: its CSPRNG stream</param>
    public Tensor SentGradient(Tensor logits, Tensor labels, Tensor middle, ulong sampleId)
    {
        if (_settings.ForwardOnly) return zeros_like(middle).detach();   // nothing that depends on a label leaves
        using var scope = NewDisposeScope();
        using var rng = new CtrRandom(_secret, sampleId);
        var y = labels.data<long>().ToArray();
        var keep = new float[y.Length];
        int kept = 0;
        for (int i = 0; i < y.Length; i++)
        {
            bool draw = rng.NextDouble() < _settings.KeepRate; // drawn for every position, so the stream does not depend on the labels
            if (draw && y[i] != FimSampler.IgnoreIndex) { keep[i] = 1; kept++; }
        }
        var perPosition = F.cross_entropy(logits, labels, ignore_index: FimSampler.IgnoreIndex, reduction: nn.Reduction.None);
        var mask = tensor(keep);
        Tensor grad;
        if (kept == 0) grad = zeros_like(middle);
        else
        {
            using var count = ((double)kept).ToScalar();
            var sent = (perPosition * mask).sum() / count;
            grad = torch.autograd.grad(new[] { sent }, new[] { middle }, retain_graph: true)[0].detach();
        }
        if (_settings.NoiseMultiplier > 0) grad = ClipAndNoise(grad, rng);
        return grad.detach().DetachFromDisposeScope();
    }

    Tensor ClipAndNoise(Tensor grad, CtrRandom rng)
    {
        long t = grad.shape[1], d = grad.shape[2];
        var norms = grad[0].norm(1);                                           // [T]
        var nonzero = norms.data<float>().Where(n => n > 0).Order().ToArray();
        double c = nonzero.Length == 0 ? 0 : nonzero[nonzero.Length / 2];
        if (c == 0) return grad;
        using var cs = c.ToScalar();
        using var tiny = 1e-30.ToScalar();
        using var one = 1.0.ToScalar();
        var factor = (norms.clamp_min(tiny).reciprocal() * cs).clamp_max(one).unsqueeze(1); // [T, 1]
        var clipped = grad[0] * factor;
        var noise = tensor(rng.NextGaussians(t * d), new[] { t, d });
        using var scale = (_settings.NoiseMultiplier * c).ToScalar();
        return (clipped + noise * scale).unsqueeze(0);
    }
}
