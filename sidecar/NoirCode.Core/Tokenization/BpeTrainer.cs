using System.Text;

namespace NoirCode.Core.Tokenization;

/// <summary>
/// Trains a byte-level BPE vocabulary (Microsoft.ML.Tokenizers has no trainer). Texts are split with the
/// Qwen2 pre-tokenizer pattern, each piece is mapped to GPT-2's byte alphabet, and the most frequent adjacent
/// pair is merged until the vocabulary is full. Pair counts are updated incrementally, with a lazy max-heap,
/// so a corpus of tens of megabytes trains in minutes.
/// </summary>
public static class BpeTrainer
{
    public sealed record Result(IReadOnlyList<string> Vocabulary, IReadOnlyList<(string Left, string Right)> Merges);

    public static Result Train(IEnumerable<string> texts, int vocabSize, int minPairCount = 2)
    {
        if (vocabSize < 256) throw new ArgumentOutOfRangeException(nameof(vocabSize), "a byte-level vocabulary needs at least 256 tokens");
        var pre = new SplitPreTokenizer(new[] { SplitPreTokenizer.Qwen2Pattern });
        var wordCounts = new Dictionary<string, long>();
        foreach (var text in texts)
            foreach (var (off, len) in pre.PreTokenize(text))
            {
                string piece = ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(text.Substring(off, len)));
                wordCounts[piece] = wordCounts.GetValueOrDefault(piece) + 1;
            }

        var vocab = ByteLevelAlphabet.ByteToChar.Select(c => c.ToString()).ToList();
        var idOf = vocab.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var words = wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: kv.Key.Select(ch => idOf[ch.ToString()]).ToList(), Count: kv.Value)).ToList();

        var pairCounts = new Dictionary<(int, int), long>();
        var pairWords = new Dictionary<(int, int), HashSet<int>>();
        for (int w = 0; w < words.Count; w++) AddPairs(w, +1);
        var heap = new PriorityQueue<(int, int), (long, int, int)>();
        foreach (var (pair, count) in pairCounts) heap.Enqueue(pair, (-count, pair.Item1, pair.Item2));

        var merges = new List<(string, string)>();
        while (vocab.Count < vocabSize && heap.TryDequeue(out var best, out var priority))
        {
            long count = pairCounts.GetValueOrDefault(best);
            if (count != -priority.Item1) { if (count > 0) heap.Enqueue(best, (-count, best.Item1, best.Item2)); continue; } // stale entry
            if (count < minPairCount) break;
            int merged = vocab.Count;
            vocab.Add(vocab[best.Item1] + vocab[best.Item2]);
            merges.Add((vocab[best.Item1], vocab[best.Item2]));
            var touched = new HashSet<(int, int)>();
            foreach (int w in pairWords[best].ToList())
            {
                AddPairs(w, -1, touched);
                var s = words[w].Symbols;
                for (int i = 0; i < s.Count - 1; i++)
                    if (s[i] == best.Item1 && s[i + 1] == best.Item2) { s[i] = merged; s.RemoveAt(i + 1); }
                AddPairs(w, +1, touched);
            }
            foreach (var p in touched)
                if (pairCounts.TryGetValue(p, out long c) && c > 0) heap.Enqueue(p, (-c, p.Item1, p.Item2));
        }
        return new Result(vocab, merges);

        void AddPairs(int w, int sign, HashSet<(int, int)>? touched = null)
        {
            var (s, count) = words[w];
            for (int i = 0; i < s.Count - 1; i++)
            {
                var p = (s[i], s[i + 1]);
                long c = pairCounts.GetValueOrDefault(p) + sign * count;
                if (c <= 0) pairCounts.Remove(p); else pairCounts[p] = c;
                if (sign > 0) { if (!pairWords.TryGetValue(p, out var set)) pairWords[p] = set = new HashSet<int>(); set.Add(w); }
                touched?.Add(p);
            }
        }
    }
}
