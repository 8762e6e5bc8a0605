using NoirCode.Privacy.Ledger;
using NoirCode.Sidecar.Lsp;

namespace NoirCode.Sidecar.Runtime;

/// <summary>
/// What a spent exposure budget does, and which whole model completes on this machine. <c>atLimit</c> "block" or
/// "local-only" as set; "auto" (the default) is local-only under public demo keys when a whole model is at hand (the
/// bundled model the demo runs on), and block otherwise: stopping demo keys protects nothing, since anyone can derive
/// them, while a user's own keys stop where the measured attack would start reading.
/// </summary>
public static class AtLimitPolicy
{
    public static BudgetAction For(SidecarSettings s, ModelRuntime? model) => s.AtLimit switch
    {
        "local-only" => BudgetAction.LocalOnly,
        "block" => BudgetAction.Block,
        _ => model?.Keys?.Demo == true && LocalModel(s, model) != null ? BudgetAction.LocalOnly : BudgetAction.Block,
    };

    /// <summary>localModelFolder, or under demo keys the public model they run on (the bundled one); else none.</summary>
    public static string? LocalModel(SidecarSettings s, ModelRuntime? model) =>
        s.LocalModelFolder ?? (model?.Keys?.Demo == true ? model.PublicModelFolder : null);

    /// <summary>The settings the whole model is loaded with: <see cref="LocalModel"/> as localModelFolder.</summary>
    public static SidecarSettings ForWholeModel(SidecarSettings s, ModelRuntime? model) => s with { LocalModelFolder = LocalModel(s, model) };
}
