using NoirCode.Privacy.Ledger;
using NoirCode.Sidecar.Lsp;

namespace NoirCode.Sidecar.Runtime;

public static class ExposureBudgets
{
    /// <summary>
    /// The budget the egress guard enforces: noir.exposureBudgetTokens when set (per its period), else the one
    /// measured for this configuration (per key: the volume at which the strongest attack reads 3 % of the
    /// content), else none.
    /// </summary>
    public static ExposureBudget? For(SidecarSettings settings, ModelRuntime? model)
    {
        var atLimit = AtLimitPolicy.For(settings, model);
        if (settings.ExposureBudgetTokens is long tokens)
            return new ExposureBudget(tokens, Enum.TryParse<BudgetPeriod>(settings.ExposurePeriod, true, out var p) ? p : BudgetPeriod.Day, atLimit);
        return model?.MeasuredBudget?.Budget.ToBudget(atLimit);
    }
}
