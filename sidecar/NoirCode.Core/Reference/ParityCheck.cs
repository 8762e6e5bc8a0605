using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;

namespace NoirCode.Core.Reference;

/// <summary>Result of <see cref="ParityCheck.Run"/>: how far the engine's logits are from its two references.</summary>
public sealed record ParityReport(
    int PromptTokens, int DecodeSteps, SplitSpec Split,
    double MaxAbsDiff, double MaxAbsDiffKvRecompute, double? MaxAbsDiffReference,
    double Tolerance, double ToleranceReference)
{
    public bool Passed => MaxAbsDiff <= Tolerance && MaxAbsDiffKvRecompute <= Tolerance * 10 && (MaxAbsDiffReference ?? 0) <= ToleranceReference;
}

/// <summary>
/// Runs a prompt plus greedy decode steps through the unsplit engine and compares, step by step, with
/// (1) the split engine (client encoder → middle → client decoder, separate KV caches),
/// (2) the unsplit engine recomputing the whole sequence without a cache, and
/// (3) the independent float64 reference.
/// </summary>
public static class ParityCheck
{
    public const double DefaultTolerance = 1e-5, DefaultReferenceTolerance = 1e-4;
    public const string DefaultPrompt = "def fibonacci(n: int) -> List[int]:\n    result = [0, 1]\n    while len(result) < n:\n";

    public static ParityReport Run(string folder, SplitSpec split, int decodeSteps = 16, bool withReference = true,
        string prompt = DefaultPrompt, IProgressSink? progress = null)
    {
        progress ??= NullProgress.Instance;
        var options = new LoadOptions { Progress = progress };
        using var model = CausalLM.Load(folder, options);
        var spec = split.ClipFor(model.Config.NumLayers);
        using var client = ClientModel.Load(folder, spec, options);
        using var cloud = CloudShard.Load(folder, spec, options);

        var ids = model.Tokenizer.Encode(prompt).ToList();
        int promptTokens = ids.Count;
        var unsplitSteps = new List<float[]>();
        var splitSteps = new List<float[]>();
        using (var unsplit = new LocalSession(model))
        using (var splitSession = new SplitSession(client, new LocalMiddleSession(cloud)))
        {
            unsplitSteps.Add(unsplit.Append(ids));
            splitSteps.Add(splitSession.Append(ids));
            for (int step = 0; step < decodeSteps; step++)
            {
                int next = Sampler.ArgMax(unsplitSteps[^1], model.Tokenizer.IdCount);
                ids.Add(next);
                unsplitSteps.Add(unsplit.Append(new[] { next }));
                splitSteps.Add(splitSession.Append(new[] { next }));
                progress.Report("decoding", step + 1, decodeSteps);
            }
            progress.Done("decoding");
        }
        double splitDiff = unsplitSteps.Zip(splitSteps).Max(p => MaxAbs(p.First, p.Second));

        // Each step's logits must equal the ones a cache-free pass over the whole sequence gives at that position.
        double kvDiff;
        using (var _ = TorchSharp.torch.no_grad())
        using (var scope = TorchSharp.torch.NewDisposeScope())
        {
            var idTensor = TorchSharp.torch.tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
            var all = model.Forward(idTensor, TorchSharp.torch.arange(ids.Count), cache: null, lastOnly: false)[0];
            kvDiff = unsplitSteps.Select((logits, s) => MaxAbs(logits, all[promptTokens - 1 + s].data<float>().ToArray())).Max();
        }

        double? refDiff = null;
        if (withReference)
        {
            progress.Report("float64 reference", 0, 1);
            var reference = new ReferenceTransformer(folder).Logits(ids);
            refDiff = unsplitSteps.Select((logits, s) =>
                logits.Select((v, j) => Math.Abs(v - reference[promptTokens - 1 + s, j])).Max()).Max();
            progress.Done("float64 reference");
        }
        return new ParityReport(promptTokens, decodeSteps, spec, splitDiff, kvDiff, refDiff, DefaultTolerance, DefaultReferenceTolerance);
    }

    static double MaxAbs(float[] a, float[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }
}
