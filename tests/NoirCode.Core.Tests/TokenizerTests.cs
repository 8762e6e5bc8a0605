using System.Text.Json.Nodes;
using NoirCode.Core.Tokenization;

namespace NoirCode.Core.Tests;

public class TokenizerTests
{
    static CodeTokenizer Tokenizer() => CodeTokenizer.Load(TestModels.Get());

    static readonly string[] Samples =
    {
        "def add(a, b):\n    return a + b\n",
        "class Foo:\r\n\tpass  # trailing spaces   \n\n\n",
        "naïve café — Ünïcödé, 日本語のコード, emoji 🚀🐍 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "x = {'a': [1, 2.5e-3, 0x1F], \"b\": None}  ;;; ``` <>!=@#$%^&*()",
        "   leading and trailing whitespace   ",
        "",
    };

    [TestCaseSource(nameof(Samples))]
    public void RoundTripsUnicodeAndCode(string text)
    {
        var tok = Tokenizer();
        var ids = tok.Encode(text);
        Assert.That(tok.Decode(ids), Is.EqualTo(text.Normalize(System.Text.NormalizationForm.FormC)));
        Assert.That(ids.All(i => i >= 0 && i < tok.IdCount && !tok.IsSpecial(i)), Is.True);
    }

    [Test]
    public void MergesCompressCode()
    {
        var tok = Tokenizer();
        string code = RandomModelFactoryCorpusLine;
        Assert.That(tok.Encode(code).Count, Is.LessThan(System.Text.Encoding.UTF8.GetByteCount(code) / 2), "a trained BPE needs fewer tokens than bytes");
    }

    const string RandomModelFactoryCorpusLine = "    def remove(self, item: str, count: int = 1) -> int:\n        if item not in self.items:\n";

    [Test]
    public void ControlTokensInUserTextStayText()
    {
        var tok = Tokenizer();
        var ids = tok.Encode("print('<|fim_middle|><|endoftext|>')");
        Assert.That(ids, Has.None.Matches<int>(tok.IsSpecial));
        Assert.That(tok.Decode(ids), Is.EqualTo("print('<|fim_middle|><|endoftext|>')"));
    }

    [Test]
    public void FimPromptIsBuiltFromIds()
    {
        var tok = Tokenizer();
        Assert.That(tok.Fim, Is.Not.Null);
        var fim = tok.Fim!;
        Assert.That(fim.Name, Is.EqualTo("qwen"));
        var pre = tok.Encode("def f(x):\n    ");
        var suf = tok.Encode("\n    return y\n");
        var psm = fim.BuildPsm(pre, suf);
        Assert.That(psm[0], Is.EqualTo(tok.SpecialId("<|fim_prefix|>")));
        Assert.That(psm[pre.Count + 1], Is.EqualTo(tok.SpecialId("<|fim_suffix|>")));
        Assert.That(psm[^1], Is.EqualTo(tok.SpecialId("<|fim_middle|>")));
        Assert.That(tok.Decode(psm, keepSpecial: true), Is.EqualTo("<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y\n<|fim_middle|>"));
        Assert.That(tok.Decode(psm), Is.EqualTo("def f(x):\n    \n    return y\n"));
        var spm = fim.BuildSpm(pre, suf);
        Assert.That(spm[0], Is.EqualTo(tok.SpecialId("<|fim_suffix|>")));
        Assert.That(tok.EndTokens, Does.Contain(tok.SpecialId("<|endoftext|>")).And.Contain(tok.SpecialId("<|fim_pad|>")));
    }

    [Test]
    public void ReadsMergesAsPairsAndGpt2StylePreTokenizer()
    {
        string dir = TestModels.CopyOf();
        string path = Path.Combine(dir, "tokenizer.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var merges = json["model"]!["merges"]!.AsArray().Select(m => m!.GetValue<string>().Split(' ')).ToList();
        json["model"]!["merges"] = new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m[0], m[1])).ToArray());
        json["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true };
        json["normalizer"] = null;
        File.WriteAllText(path, json.ToJsonString());
        var tok = CodeTokenizer.Load(dir);
        foreach (var s in Samples) Assert.That(tok.Decode(tok.Encode(s)), Is.EqualTo(s));
    }

    [Test]
    public void TrainerMergesTheMostFrequentPairFirst()
    {
        var result = BpeTrainer.Train(new[] { "abab abab abab xy" }, vocabSize: 260, minPairCount: 1);
        Assert.That(result.Merges[0], Is.EqualTo(("a", "b")));
        Assert.That(result.Vocabulary, Has.Count.EqualTo(260));
        Assert.That(result.Vocabulary[256], Is.EqualTo("ab"));
        var again = BpeTrainer.Train(new[] { "abab abab abab xy" }, vocabSize: 260, minPairCount: 1);
        Assert.That(again.Merges, Is.EqualTo(result.Merges), "training is deterministic");
    }
}
