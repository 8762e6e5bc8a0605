using NoirCode.Core.Tokenization;
using NoirCode.Core.Training;
using NoirCode.Core.Generation;
using NoirCode.Remote;
using NoirCode.STuning;

namespace NoirCode.Attack.Wire;

/// <summary>The labels a STuning step trained on, as the head's indices (LTokenizer cipher symbols under keys):
/// the measurement's truth, drawn exactly as <see cref="SplitFineTuner"/> draws them.</summary>
public static class TuningLabels
{
    public static List<long[]> Of(IReadOnlyList<string> documents, CodeTokenizer tokenizer, TuneSettings s, IVocabularyMapping? mapping, int step)
    {
        var sampler = new FimSampler(documents, tokenizer, s.SequenceLength);
        var rng = SplitFineTuner.StepRandom(s, step);
        var result = new List<long[]>();
        for (int b = 0; b < s.Batch; b++)
        {
            var (_, target) = sampler.Sample(rng);
            result.Add(target.Select(t => t == FimSampler.IgnoreIndex || mapping == null ? t : mapping.ToIndex((int)t)).ToArray());
        }
        return result;
    }
}
