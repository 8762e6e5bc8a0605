using NoirCode.Attack.Data;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Tokenization;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using static TorchSharp.torch;
using NoirCode.Protocol;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// Everything the honest-but-curious cloud knows: the public model (embedding, all blocks, head), the public
/// tokenizer, public code and its token statistics, and what the public encoder sends for public code (its
/// outputs with the tokens that produced them). Nothing here is derived from the private set or the keys.
/// </summary>
public sealed class AttackerKnowledge : IDisposable
{
    public ModelConfig Config { get; }
    public string PublicModelFolder { get; private init; } = "";
    public SplitSpec Split { get; private init; } = SplitSpec.Default;
    public WireDtype Wire { get; private init; }
    public CodeTokenizer Tokenizer => PublicClient.Tokenizer;
    public TokenClasses Classes { get; }
    public ClientModel PublicClient { get; }
    public CloudShard PublicMiddle { get; }
    public PublicCorpus Corpus { get; }
    public TokenStatistics Statistics { get; }
    /// <summary>The public encoder's outputs for public code windows, float32 [N, D], as sent on the wire.</summary>
    public Tensor PublicHidden { get; }
    /// <summary>The token at each row of <see cref="PublicHidden"/>.</summary>
    public long[] PublicLabels { get; }

    AttackerKnowledge(ModelConfig config, TokenClasses classes, ClientModel client, CloudShard middle, PublicCorpus corpus,
        TokenStatistics stats, Tensor hidden, long[] labels)
    {
        Config = config; Classes = classes; PublicClient = client; PublicMiddle = middle; Corpus = corpus;
        Statistics = stats; PublicHidden = hidden; PublicLabels = labels;
    }

    /// <param name="publicModel">the public model folder (whole model)</param>
    /// <param name="corpus">reads the public code with the public tokenizer</param>
    /// <param name="encoderTokens">how many public tokens to run through the public encoder for the inversion attacks</param>
    public static AttackerKnowledge Build(string publicModel, SplitSpec split, Func<CodeTokenizer, PublicCorpus> readCorpus, long encoderTokens,
        WireDtype wire, IProgressSink progress)
    {
        var config = ModelConfig.Load(publicModel);
        var client = ClientModel.Load(publicModel, split);
        var middle = CloudShard.Load(publicModel, split);
        var corpus = readCorpus(client.Tokenizer);
        var classes = new TokenClasses(client.Tokenizer, config.VocabSize);
        var stats = new TokenStatistics(corpus.Documents, config.VocabSize);
        // The attacker runs the public encoder itself; it simulates the same wire so rounding matches.
        using var simulated = new ClientUnderTest("public", ClientModel.Load(publicModel, split), keys: null, wire);
        var windows = corpus.Windows(128, encoderTokens);
        var parts = new List<Tensor>();
        var labels = new List<long>();
        for (int i = 0; i < windows.Count; i++)
        {
            parts.Add(simulated.CloudView(windows[i]));
            labels.AddRange(windows[i].Select(t => (long)t));
            if (i % 50 == 0) progress.Report("public encoder outputs", i, windows.Count);
        }
        progress.Done("public encoder outputs");
        var hidden = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return new AttackerKnowledge(config, classes, client, middle, corpus, stats, hidden, labels.ToArray())
        { PublicModelFolder = publicModel, Split = split, Wire = wire };
    }

    public void Dispose()
    {
        PublicHidden.Dispose();
        PublicClient.Dispose();
        PublicMiddle.Dispose();
    }
}
