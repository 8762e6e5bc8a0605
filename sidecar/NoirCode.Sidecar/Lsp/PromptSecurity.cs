namespace NoirCode.Sidecar.Lsp;

public sealed record PromptSecurityArguments(string Uri, Position Position);

/// <summary>What the report attacks: the text a completion at the cursor sends, under the running client and keys.</summary>
public sealed record PromptSecurityRequest(string PublicModelFolder, string ClientFolder, string? KeysFolder, string Prompt);

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
    /// <summary>Characters before and after the cursor: at 3–4 characters per token, about the completion
    /// engine's 768-token prompt, which the report then caps at 512 tokens.</summary>
    public const int PrefixChars = 2000, SuffixChars = 600;

    /// <summary>The text around <paramref name="offset"/> that a completion there sends (as hidden states).</summary>
    public static string PromptAround(string text, int offset)
    {
        int start = Math.Max(0, offset - PrefixChars), end = Math.Min(text.Length, offset + SuffixChars);
        return text[start..offset] + text[offset..end];
    }
}
