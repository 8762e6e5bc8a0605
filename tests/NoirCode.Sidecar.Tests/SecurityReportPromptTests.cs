using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Sidecar.Completion;
using NoirCode.Sidecar.Lsp;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// The security report must attack exactly the ids a completion at the same cursor sends (regression: it attacked
/// 2,000 characters before and 600 after the cursor as plain text, a prompt no completion ever sends).
/// </summary>
public class SecurityReportPromptTests
{
    /// <summary>Keeps the first append of a fresh session: the whole prompt.</summary>
    sealed class FirstAppend(IInferenceSession inner) : IInferenceSession
    {
        public IReadOnlyList<int>? Ids { get; private set; }
        public long Length => inner.Length;
        public float[] Append(IReadOnlyList<int> ids) { Ids ??= ids.ToArray(); return inner.Append(ids); }
        public void Truncate(long length) => inner.Truncate(length);
        public void Dispose() => inner.Dispose();
    }

    [TestCase(3, TestName = "ShortDocument")]
    [TestCase(800, TestName = "LongDocument")]
    public async Task TheSecurityReportAttacksTheCompletionsPrompt(int lines)
    {
        string folder = Directory.CreateTempSubdirectory("noir-report-prompt-").FullName;
        try
        {
            RandomModelFactory.Create(folder, "tiny", seed: 5);
            var model = CausalLM.Load(folder);
            var session = new FirstAppend(new LocalSession(model));
            using var engine = new CompletionEngine(session, model.Tokenizer, model.Config.MaxPositions, new CompletionSettings { MaxNewTokens = 2 });
            string document = string.Concat(Enumerable.Range(0, lines).Select(i => $"value_{i} = compute({i}, {i * 7})\n")) + "result = merge(a, b)\nprint(result)\n";
            int cursor = document.IndexOf("(a, b)", StringComparison.Ordinal);
            await engine.CompleteAsync(new CompletionContext(document[..cursor], document[cursor..]), default, explicitRequest: true);
            var request = PromptSecurity.Request("public", folder, null, engine, document, cursor);
            Assert.That(request.PromptIds, Is.EqualTo(session.Ids), "the report attacks other ids than the completion sends");
            Assert.That(request.PromptText, Does.Contain("result = merge(a, b)"), "secrets are looked for in the text the prompt covers");
        }
        finally { Directory.Delete(folder, true); }
    }
}
