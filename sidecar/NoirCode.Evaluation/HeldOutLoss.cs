using NoirCode.Core.Generation;
using NoirCode.Core.Tokenization;
using NoirCode.Core.Util;

namespace NoirCode.Evaluation;

/// <summary>
/// Next-token loss of any session (local, split, through an endpoint, under keys) on plain-text windows: the
/// first tokens of evenly spaced documents, fed one token at a time as generation does, so the measured path is
/// the one users run (KV caches, wire format, egress guard, LTokenizer mapping back to tokens).
/// </summary>
public static class HeldOutLoss
{
    public sealed record Result(double Loss, long Tokens, int Windows, TimeSpan Elapsed);

    public static Result Run(IInferenceSession session, CodeTokenizer tokenizer, IReadOnlyList<string> documents, int windows, int tokensPerWindow, IProgressSink progress)
    {
        if (documents.Count == 0) throw new ArgumentException("no documents");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double total = 0;
        long count = 0;
        int step = Math.Max(1, documents.Count / windows), done = 0;
        for (int w = 0; w < windows && w * step < documents.Count; w++)
        {
            var ids = tokenizer.Encode(documents[w * step]).Take(tokensPerWindow).ToArray();
            if (ids.Length < 2) continue;
            session.Truncate(0);
            var logits = session.Append(new[] { ids[0] });
            for (int i = 1; i < ids.Length; i++)
            {
                total += NegativeLogLikelihood(logits, ids[i]);
                count++;
                if (i + 1 < ids.Length) logits = session.Append(new[] { ids[i] });
            }
            progress.Report("held-out loss", ++done, windows, $"{total / Math.Max(1, count):F3}");
        }
        progress.Done("held-out loss");
        session.Truncate(0);
        return new Result(total / Math.Max(1, count), count, done, clock.Elapsed);
    }

    static double NegativeLogLikelihood(float[] logits, int target)
    {
        double max = double.NegativeInfinity;
        foreach (float v in logits) if (v > max) max = v;
        double sum = 0;
        foreach (float v in logits) if (!float.IsNegativeInfinity(v)) sum += Math.Exp(v - max);
        return Math.Log(sum) + max - logits[target];
    }
}
