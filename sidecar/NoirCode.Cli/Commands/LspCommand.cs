using System.CommandLine;
using NoirCode.Attack.Evaluation;
using NoirCode.Sidecar;
using NoirCode.Sidecar.Lsp;
using NoirCode.Sidecar.Runtime;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir lsp</c>: the sidecar as a language server on stdin/stdout, for any LSP client.</summary>
public static class LspCommand
{
    public static Command Create()
    {
        var cmd = new Command("lsp", "Run the sidecar language server over stdio (settings come from initializationOptions)");
        cmd.SetAction(async (_, cancel) =>
        {
            CoreDumps.Disable();
            // The attack harness stays here: the sidecar gets the report as a delegate, not a reference to the attacks.
            using var security = new PromptSecurityService();
            using var server = new NoirLanguageServer(Console.OpenStandardInput(), Console.OpenStandardOutput(), new RuntimeFactory(), (r, _) => SecurityReport(security, r));
            server.Start();
            try { await server.Exited.WaitAsync(cancel); } catch (OperationCanceledException) { }
            return 0;
        });
        return cmd;
    }

    /// <summary>The privacy panel's per-prompt report: the attack harness's outcomes in the language server's terms.</summary>
    static PromptSecurityResult SecurityReport(PromptSecurityService security, PromptSecurityRequest r)
    {
        var outcomes = security.Run(r.PublicModelFolder, r.ClientFolder, r.KeysFolder, r.PromptIds, r.PromptText);
        var keys = r.KeysFolder == null ? null : Privacy.Keys.PrivacyKeys.ReadMetadata(r.KeysFolder);
        // ε as the status bar shows it: the composed k·ε of k tables, with the per-table ε beside it.
        string epsilon = keys == null ? "" : keys.Homophones > 1 ? $"ε = {keys.TotalEpsilon:G4} ({keys.Homophones} tables at ε = {keys.Epsilon:G4})" : $"ε = {keys.Epsilon:G4}";
        string setting = keys == null ? "no privacy keys (ε = ∞): the hidden states come from the public embedding"
            : keys.Demo ? $"demo keys {keys.KeyId}, {epsilon}: the keys are public: the cloud wins (it can undo them; the attacks below assume it does not)"
            : $"keys {keys.KeyId}, {epsilon}";
        // Public keys protect nothing: whatever the attacks below recover without them, the cloud that has them wins.
        bool cloudWins = keys?.Demo == true || outcomes.Any(o => o.Score.Win);
        return new PromptSecurityResult(outcomes[0].Score.Tokens, cloudWins, setting, outcomes.Select(o => new PromptAttackRow(
            o.Attack, Math.Round(o.Score.Crt, 4), Math.Round(o.Score.ContentCrt, 4), Math.Round(o.Score.Bleu, 2), Math.Round(o.Score.Rouge1, 4), o.Score.Win,
            o.SensitiveItems, o.SensitiveRecovered, o.Reconstruction.Length > 2000 ? o.Reconstruction[..2000] : o.Reconstruction)).ToArray(), keys?.Demo == true);
    }
}
