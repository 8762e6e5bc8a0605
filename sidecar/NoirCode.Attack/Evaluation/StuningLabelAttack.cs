using TorchSharp;
using NoirCode.Attack.Attacks;
using NoirCode.Core.Model;
using NoirCode.Core.Training;
using NoirCode.Core.Util;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Attack.Evaluation;

/// <summary>Share of one step's labelled positions that each variant of the gradient attack recovered exactly
/// (the public-decoder variant is run on some steps only: it costs as much as the shadow's).</summary>
public sealed record StepRecovery(int Step, int Labelled, double? PublicDecoder, double ShadowDecoder)
{
    public double Best => Math.Max(PublicDecoder ?? 0, ShadowDecoder);
}

/// <summary>
/// The gradient attack over a whole STuning run, step by step, with the two decoders a cloud can have:
/// <list type="bullet">
/// <item>the public decoder and head (the client's own at step 0, so exact there, drifting after);</item>
/// <item>a shadow decoder: the public one, trained by the cloud after every step on the labels it has just
/// recovered and the middle outputs it computed, as the client trains its own (same loss, optimiser, learning
/// rate and clipping; only the client's encoder half of the clipping norm is unknown to it).</item>
/// </list>
/// Recovered labels come out in order, aligned with what the cloud sent: a cipher stream for the decipherer.
/// </summary>
public sealed class StuningLabelAttack(string publicModel, SplitSpec split, double learningRate, IProgressSink progress)
{
    /// <param name="samples">per step, per sample: Ë [T, D] and ∂L/∂Ë [T, D] as captured</param>
    /// <param name="truth">per step, per sample: the labels (head indices; <see cref="FimSampler.IgnoreIndex"/> where ignored)</param>
    /// <param name="recoveredStream">the best variant's labels of every sample, in order (ignored positions dropped)</param>
    /// <summary>Steps on which the public-decoder variant also runs (it is exact at step 0 and falls behind).</summary>
    public static bool PublicStep(int step) => step < 3 || step % 5 == 0;

    public List<StepRecovery> Run(IReadOnlyList<IReadOnlyList<(Tensor Middle, Tensor Gradient)>> samples, IReadOnlyList<IReadOnlyList<long[]>> truth,
        out List<int[]> recoveredStream, out List<int[]> truthStream)
    {
        using var publicDecoder = ClientModel.Load(publicModel, split, untieHead: true);
        using var shadow = ClientModel.Load(publicModel, split, untieHead: true);
        var trainable = shadow.Decoder.NamedWeights().Concat(shadow.Head.NamedWeights()).Select(w => w.P).ToList();
        var optimizer = new AdamW(trainable, learningRate, weightDecay: 0.0);
        var publicAttack = new GradientLabelRecovery(publicDecoder);
        var shadowAttack = new GradientLabelRecovery(shadow);
        var result = new List<StepRecovery>();
        recoveredStream = new List<int[]>();
        truthStream = new List<int[]>();
        for (int step = 0; step < samples.Count; step++)
        {
            int labelled = 0, publicHits = 0, shadowHits = 0;
            var shadowLabels = new List<int[]>();
            for (int b = 0; b < samples[step].Count; b++)
            {
                var (middle, gradient) = samples[step][b];
                var y = truth[step][b];
                var fromShadow = shadowAttack.Recover(middle, gradient);
                var fromPublic = step == 0 ? fromShadow : PublicStep(step) ? publicAttack.Recover(middle, gradient) : null;
                int p = 0, s = 0, n = 0;
                for (int i = 0; i < y.Length; i++)
                {
                    if (y[i] == FimSampler.IgnoreIndex) continue;
                    n++;
                    if (fromPublic?[i] == y[i]) p++;
                    if (fromShadow[i] == y[i]) s++;
                }
                labelled += n; publicHits += p; shadowHits += s;
                // The cloud cannot score itself; it keeps the shadow, which tracks the client (the public decoder
                // at step 0, where the two are the same).
                var best = fromShadow;
                shadowLabels.Add(best);
                var kept = Enumerable.Range(0, y.Length).Where(i => y[i] != FimSampler.IgnoreIndex).ToArray();
                recoveredStream.Add(kept.Select(i => Math.Max(0, best[i])).ToArray());
                truthStream.Add(kept.Select(i => (int)y[i]).ToArray());
            }
            var r = new StepRecovery(step, labelled, PublicStep(step) && labelled > 0 ? (double)publicHits / labelled : null,
                labelled == 0 ? 0 : (double)shadowHits / labelled);
            result.Add(r);
            Train(shadow, optimizer, trainable, samples[step], shadowLabels);
            progress.Report("gradient attack on STuning", step + 1, samples.Count, $"step {step}: {r.Best:P1} of labels (shadow {r.ShadowDecoder:P1}, public {(r.PublicDecoder is double pd ? pd.ToString("P1") : "not run")})");
        }
        progress.Done("gradient attack on STuning");
        return result;
    }

    /// <summary>One step of the client's own update rule on the shadow, with the recovered labels.</summary>
    static void Train(ClientModel shadow, AdamW optimizer, List<TorchSharp.Modules.Parameter> trainable,
        IReadOnlyList<(Tensor Middle, Tensor Gradient)> batch, List<int[]> labels)
    {
        optimizer.zero_grad();
        for (int b = 0; b < batch.Count; b++)
        {
            using var scope = NewDisposeScope();
            var middle = batch[b].Middle.unsqueeze(0);
            var logits = shadow.Decode(middle, arange(middle.shape[1]), cache: null, lastOnly: false)[0];
            var target = tensor(labels[b].Select(l => l < 0 ? (long)FimSampler.IgnoreIndex : l).ToArray());
            F.cross_entropy(logits, target, ignore_index: FimSampler.IgnoreIndex).backward();
        }
        using (no_grad())
        using (var count = batch.Count.ToScalar())
            foreach (var p in trainable) p.grad?.div_(count);
        nn.utils.clip_grad_norm_(trainable, 1.0);
        optimizer.step();
    }
}
