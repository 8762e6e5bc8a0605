using NoirCode.Core.Model;
using NoirCode.Core.Tokenization;
using NoirCode.Core.Training;

namespace NoirCode.Core.Tests;

/// <summary>Training samples: a fill-in-the-middle sample must keep its middle and end-of-text inside the window.</summary>
public class FimSamplerTests
{
    static (CodeTokenizer Tokenizer, FimFormat Fim, int Eos) Tokenizer()
    {
        var tok = CausalLM.Load(TestModels.Get()).Tokenizer;
        return (tok, tok.Fim!, tok.SpecialId("<|endoftext|>"));
    }

    static readonly string[] Documents =
    {
        string.Join("\n", Enumerable.Range(0, 400).Select(i => $"def function_{i}(value, other={i}):\n    return value * {i} + other  # line {i}")),
        "x = 1\ny = 2\n",
    };

    [TestCase(64)]
    [TestCase(256)]
    public void FimSamplesKeepTheMiddleAndItsEndInTheWindow(int length)
    {
        var (tok, fim, eos) = Tokenizer();
        var sampler = new FimSampler(Documents, tok, length);
        int fimSamples = 0, complete = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            var (input, target) = sampler.Sample(new Random(seed));
            Assert.That(input, Has.Length.EqualTo(length));
            int mid = Array.IndexOf(input, (long)fim.Middle);
            bool isFim = input[0] == fim.Prefix || input[0] == fim.Suffix;
            if (!isFim) continue;
            fimSamples++;
            Assert.That(mid, Is.GreaterThan(0), $"seed {seed}: the middle marker is inside the window");
            // Before this fix, windows of ~4 characters per token pushed the middle out of most samples.
            int end = Array.IndexOf(target, (long)eos, mid);
            if (end >= 0) complete++;
        }
        Assert.That(fimSamples, Is.GreaterThan(100));
        Assert.That(complete, Is.GreaterThan(fimSamples * 3 / 4), "most FIM samples end their middle with end-of-text inside the window");
    }

    [TestCase(0.0, 0, 0)]
    [TestCase(0.5, 150, 250)]
    [TestCase(1.0, 400, 400)]
    public void TheFimRateIsTheShareOfFimSamples(double rate, int atLeast, int atMost)
    {
        var (tok, fim, _) = Tokenizer();
        var sampler = new FimSampler(Documents.Take(1).ToArray(), tok, 128, rate);
        int fimSamples = Enumerable.Range(0, 400).Select(seed => sampler.Sample(new Random(seed)).Input[0])
            .Count(first => first == fim.Prefix || first == fim.Suffix);
        Assert.That(fimSamples, Is.InRange(atLeast, atMost));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FimSampler(Documents, tok, 128, 1.5));
    }

    [Test]
    public void RestOfLineMiddlesEndTheirLineAndTheSuffixStartsAtItsNewline()
    {
        var (tok, fim, eos) = Tokenizer();
        var sampler = new FimSampler(Documents.Take(1).ToArray(), tok, 256, fimRate: 1, restOfLineShare: 1);
        for (int seed = 0; seed < 100; seed++)
        {
            var (input, target) = sampler.Sample(new Random(seed));
            // The end-of-text may fall just past the window: it is read from the targets.
            int mid = Array.IndexOf(input, (long)fim.Middle), end = Array.IndexOf(target, (long)eos, mid);
            Assert.That(end, Is.GreaterThan(mid), $"seed {seed}: a middle of at least one token, ended");
            string middle = tok.Decode(input[(mid + 1)..(end + 1)].Select(i => (int)i).ToArray());
            Assert.That(middle, Does.Not.Contain('\n'), $"seed {seed}: the rest of one line");
            int suffixStart = Array.IndexOf(input, (long)fim.Suffix) + 1;
            int suffixEnd = input[0] == fim.Suffix ? Array.IndexOf(input, (long)fim.Prefix) : mid;
            string suffix = tok.Decode(input[suffixStart..suffixEnd].Select(i => (int)i).ToArray());
            Assert.That(suffix, Does.StartWith("\n"), $"seed {seed}: the suffix starts at the line's newline");
        }
    }

    [Test]
    public void TargetsAreTheNextInputs()
    {
        var (tok, _, _) = Tokenizer();
        var (input, target) = new FimSampler(Documents, tok, 128).Sample(new Random(3));
        for (int i = 0; i + 1 < input.Length; i++)
            if (target[i] != FimSampler.IgnoreIndex) Assert.That(target[i], Is.EqualTo(input[i + 1]));
    }
}
