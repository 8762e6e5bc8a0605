using NoirCode.Sidecar.Completion;

namespace NoirCode.Sidecar.Lsp;

public sealed record PromptSecurityArguments(string Uri, Position Position);

/// <summary>What the report attacks: the prompt a completion at the cursor sends, under the running client and keys.</summary>
/// <param name="PromptIds">the prompt's ids exactly as the completion sends them, control tokens included</param>
/// <param name="PromptText">the document text the prompt covers: where the report looks for the secrets an attack recovers</param>
public sealed record PromptSecurityRequest(string PublicModelFolder, string ClientFolder, string? KeysFolder, IReadOnlyList<int> PromptIds, string PromptText);

public sealed record PromptAttackRow(string Attack, double Crt, double ContentCrt, double Bleu, double Rouge1, bool CloudWins,
    int SensitiveItems, int SensitiveRecovered, string Reconstruction);

/// <param name="Tokens">tokens of the prompt that were attacked</param>
/// <param name="CloudWins">whether any attack wins the paper's game (BLEU ≥ 20 or ROUGE-1 ≥ 0.4)</param>
/// <param name="Setting">the client setting attacked, in words (keys, ε)</param>
/// <param name="DemoKeys">the keys are the shipped public demo keys: the cloud wins whatever the attacks below say</param>
public sealed record PromptSecurityResult(int Tokens, bool CloudWins, string Setting, PromptAttackRow[] Attacks, bool DemoKeys = false);

/// <summary>Runs the per-prompt attacks (supplied by the host, which holds the attack harness).</summary>
public delegate PromptSecurityResult PromptSecurityReporter(PromptSecurityRequest request, CancellationToken cancel);

/// <summary>
/// The privacy panel's per-prompt security report (the paper's client-side report): what an honest-but-curious
/// cloud holding the public model could reconstruct from the hidden states a completion at the cursor sends.
/// Everything runs on this machine and the result goes only to the editor; nothing is logged or written.
/// </summary>
public static class PromptSecurity
{
    public const string Command = "noir.promptSecurityReport";

    /// <summary>The report's request for the cursor at <paramref name="offset"/>: the prompt the completion engine would
    /// send there (<see cref="CompletionEngine.PromptAt"/>), so the report attacks nothing else.</summary>
    public static PromptSecurityRequest Request(string publicModel, string clientFolder, string? keysFolder, CompletionEngine engine, string text, int offset)
    {
        var prompt = engine.PromptAt(text, offset);
        return new PromptSecurityRequest(publicModel, clientFolder, keysFolder, prompt.Ids, prompt.Covered(text));
    }
}
