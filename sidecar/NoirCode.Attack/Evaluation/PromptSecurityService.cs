using NoirCode.Attack.Attacks;
using NoirCode.Attack.Data;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;

namespace NoirCode.Attack.Evaluation;

/// <summary>
/// The per-prompt security report for a long-running client (the sidecar): the attacker's knowledge (public model
/// and public code run through the public encoder, several seconds to build) and the client under test are kept
/// between reports, so only the first one pays for them. One report at a time.
/// </summary>
public sealed class PromptSecurityService(string? publicCodeFolder = null, long publicTokens = 30_000) : IDisposable
{
    readonly object _lock = new();
    AttackerKnowledge? _knowledge;
    (string Key, ClientUnderTest Client)? _client;

    /// <param name="publicModel">the whole public model the cloud is assumed to hold</param>
    /// <param name="clientFolder">the client that sends (whole model, client shard or tuned shard)</param>
    /// <param name="promptIds">the prompt as the client sends it (all of it: the sidecar's prompt builder already keeps it to its budget)</param>
    /// <param name="promptText">the text the prompt covers, where secrets are looked for</param>
    public IReadOnlyList<PromptAttackOutcome> Run(string publicModel, string clientFolder, string? keysFolder, IReadOnlyList<int> promptIds, string promptText, IProgressSink? progress = null)
    {
        lock (_lock)
        {
            var split = ShardManifest.TryLoad(clientFolder)?.Split ?? SplitSpec.Default;
            var clientConfig = ModelConfig.Load(clientFolder);
            var publicConfig = ModelConfig.Load(publicModel);
            if (clientConfig.VocabSize != publicConfig.VocabSize || clientConfig.HiddenSize != publicConfig.HiddenSize || clientConfig.NumLayers != publicConfig.NumLayers)
                throw new ArgumentException($"{publicModel} is not the public model of the client in {clientFolder} (vocabulary, width or depth differ)");
            if (_knowledge == null || _knowledge.PublicModelFolder != publicModel || _knowledge.Split != split)
            {
                _knowledge?.Dispose();
                _knowledge = null;
                _knowledge = AttackerKnowledge.Build(publicModel, split, t => PublicCorpus.Load(publicCodeFolder, t, publicTokens), publicTokens,
                    WireDtype.Float16, progress ?? NullProgress.Instance);
            }
            string key = clientFolder + "\n" + keysFolder;
            if (_client?.Key != key)
            {
                _client?.Client.Dispose();
                _client = null;
                _client = (key, ClientUnderTest.Load("client", clientFolder, keysFolder, split));
            }
            return new PromptSecurityReport(_knowledge).Run(_client.Value.Client, promptIds, promptText);
        }
    }

    public void Dispose()
    {
        lock (_lock) { _knowledge?.Dispose(); _client?.Client.Dispose(); }
    }
}
