using TorchSharp;
using NoirCode.Attack.Attacks;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Training;
using NoirCode.Core.Util;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Attack.Evaluation;

/// <summary>Share of one step's labelled positions that each variant of the gradient attack recovered exactly
/// (each decoder's figure is the better of its two solves; the public-decoder variant runs on some steps only:
/// it costs as much as the others).</summary>
public sealed record StepRecovery(int Step, int Labelled, double? PublicDecoder, double ShadowDecoder)
{
    /// <summary>With the client's own decoder and head of that step (more than a cloud knows); null when not run.</summary>
    public double? ClientDecoder { get; init; }
    /// <summary>Per variant and solve ("shadow/back-substitution", "client/direction", …).</summary>
    public IReadOnlyDictionary<string, double> BySolve { get; init; } = new Dictionary<string, double>();
    public double Best => Math.Max(Math.Max(PublicDecoder ?? 0, ShadowDecoder), ClientDecoder ?? 0);
}

/// <summary>
/// The gradient attack over a whole STuning run, step by step, with the decoders a cloud can have:
/// <list type="bullet">
/// <item>the public decoder and head (the client's own at step 0, so exact there, drifting after);</item>
/// <item>a shadow decoder: the public one, trained by the cloud after every step on the labels it has just
/// recovered and the middle outputs it computed, as the client trains its own (same loss, optimiser, learning
/// rate and clipping; only the client's encoder half of the clipping norm is unknown to it);</item>
/// <item>optionally the client's own decoder at every step (<see cref="ClientDecoderSnapshots"/>): what no
/// cloud has, so a defence that holds against it holds against any decoder the cloud can build.</item>
/// </list>
/// Each decoder runs both solves (exact back-substitution, scale-free direction match). Recovered labels come out
/// in order, aligned with what the cloud sent: a cipher stream for the decipherer.
/// </summary>
public sealed class StuningLabelAttack(string publicModel, SplitSpec split, double learningRate, IProgressSink progress)
{
    /// <summary>Steps on which the public-decoder variant also runs (it is exact at step 0 and falls behind); with the
    /// client's own decoder in the run, step 0 only.</summary>
    public static bool PublicStep(int step) => step < 3 || step % 5 == 0;

    /// <param name="samples">per step, per sample: Ë [T, D] and ∂L/∂Ë [T, D] as captured</param>
    /// <param name="truth">per step, per sample: the labels (head indices; <see cref="FimSampler.IgnoreIndex"/> where ignored)</param>
    /// <param name="clientDecoders">the client's decoder at each step, or null to leave that variant out</param>
    /// <param name="recoveredStream">the shadow's labels of every sample, in order (ignored positions dropped)</param>
    public List<StepRecovery> Run(IReadOnlyList<IReadOnlyList<(Tensor Middle, Tensor Gradient)>> samples, IReadOnlyList<IReadOnlyList<long[]>> truth,
        ClientDecoderSnapshots? clientDecoders, out List<int[]> recoveredStream, out List<int[]> truthStream)
    {
        using var publicDecoder = ClientModel.Load(publicModel, split, untieHead: true);
        using var shadow = ClientModel.Load(publicModel, split, untieHead: true);
        using var client = clientDecoders == null ? null : ClientModel.Load(publicModel, split, untieHead: true);
        var trainable = shadow.Decoder.NamedWeights().Concat(shadow.Head.NamedWeights()).Select(w => w.P).ToList();
        var optimizer = new AdamW(trainable, learningRate, weightDecay: 0.0);
        var publicAttack = new GradientLabelRecovery(publicDecoder);
        var shadowAttack = new GradientLabelRecovery(shadow);
        var clientAttack = client == null ? null : new GradientLabelRecovery(client);
        var result = new List<StepRecovery>();
        recoveredStream = new List<int[]>();
        truthStream = new List<int[]>();
        for (int step = 0; step < samples.Count; step++)
        {
            if (client != null) clientDecoders!.LoadInto(client, step);
            int labelled = 0;
            var hits = new Dictionary<string, int>();
            var shadowLabels = new List<int[]>();
            for (int b = 0; b < samples[step].Count; b++)
            {
                var (middle, gradient) = samples[step][b];
                var y = truth[step][b];
                var fromShadow = shadowAttack.RecoverBoth(middle, gradient);
                // At step 0 all three decoders are the public one: one analysis serves them all.
                // With the client's own decoder in the run, the public one (strictly less knowledge) runs at step 0 only.
                var fromPublic = step == 0 ? fromShadow : PublicStep(step) && clientAttack == null ? publicAttack.RecoverBoth(middle, gradient) : null;
                var fromClient = clientAttack == null ? null : step == 0 ? fromShadow : clientAttack.RecoverBoth(middle, gradient);
                var kept = Enumerable.Range(0, y.Length).Where(i => y[i] != FimSampler.IgnoreIndex).ToArray();
                labelled += kept.Length;
                void Count(string name, int[] labels) => hits[name] = hits.GetValueOrDefault(name) + kept.Count(i => labels[i] == y[i]);
                Count("shadow/back-substitution", fromShadow.BackSubstitution); Count("shadow/direction", fromShadow.Direction);
                if (fromPublic != null) { Count("public/back-substitution", fromPublic.BackSubstitution); Count("public/direction", fromPublic.Direction); }
                if (fromClient != null) { Count("client/back-substitution", fromClient.BackSubstitution); Count("client/direction", fromClient.Direction); }
                // The cloud cannot score itself; it keeps the shadow, which tracks the client (the public decoder
                // at step 0, where the two are the same).
                var best = fromShadow.BackSubstitution;
                shadowLabels.Add(best);
                recoveredStream.Add(kept.Select(i => Math.Max(0, best[i])).ToArray());
                truthStream.Add(kept.Select(i => (int)y[i]).ToArray());
            }
            var share = hits.ToDictionary(kv => kv.Key, kv => labelled == 0 ? 0 : (double)kv.Value / labelled);
            double? Of(string variant) => share.ContainsKey(variant + "/direction") ? Math.Max(share[variant + "/back-substitution"], share[variant + "/direction"]) : null;
            var r = new StepRecovery(step, labelled, Of("public"), Of("shadow") ?? 0) { ClientDecoder = Of("client"), BySolve = share };
            result.Add(r);
            Train(shadow, optimizer, trainable, samples[step], shadowLabels);
            progress.Report("gradient attack on STuning", step + 1, samples.Count,
                $"step {step}: {r.Best:P1} of labels (shadow {r.ShadowDecoder:P1}, public {(r.PublicDecoder is double pd ? pd.ToString("P1") : "not run")}, client's own {(r.ClientDecoder is double cd ? cd.ToString("P1") : "not run")})");
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
            if (labels[b].All(l => l < 0)) continue;   // nothing recovered: nothing to learn from
            using var scope = NewDisposeScope();
            var middle = batch[b].Middle.unsqueeze(0);
            var logits = shadow.LastBlocksAndHead(middle, arange(middle.shape[1]), cache: null, lastOnly: false)[0];
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
