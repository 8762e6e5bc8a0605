namespace NoirCode.Privacy.Ledger;

public enum BudgetPeriod { Day, Week, Month }

/// <summary>What happens when the budget is spent: stop completing, or complete with a local full model only.</summary>
public enum BudgetAction { Block, LocalOnly }

public enum BudgetLevel { Ok, Warning, Exhausted }

/// <summary>A limit on tokens sent to the cloud under one key per period. Warns at 80%, acts at 100%.</summary>
public sealed record ExposureBudget(long TokensPerPeriod, BudgetPeriod Period = BudgetPeriod.Day, BudgetAction AtLimit = BudgetAction.Block)
{
    public const double WarningFraction = 0.8;

    /// <summary>Start of the period containing <paramref name="now"/> (UTC days; weeks start on Monday).</summary>
    public DateTimeOffset PeriodStart(DateTimeOffset now)
    {
        var d = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return Period switch
        {
            BudgetPeriod.Day => d,
            BudgetPeriod.Week => d.AddDays(-(((int)d.DayOfWeek + 6) % 7)),
            _ => new DateTimeOffset(d.Year, d.Month, 1, 0, 0, 0, TimeSpan.Zero),
        };
    }

    public BudgetState Evaluate(ExposureLedger ledger, string keyId, DateTimeOffset? now = null)
    {
        var start = ExposureLedger.Day(PeriodStart(now ?? DateTimeOffset.UtcNow));
        long used = ledger.Sum(k => k.Key == keyId && string.CompareOrdinal(k.Day, start) >= 0).Tokens;
        return Evaluate(used);
    }

    public BudgetState Evaluate(long usedTokens)
    {
        double fraction = TokensPerPeriod <= 0 ? 1 : (double)usedTokens / TokensPerPeriod;
        var level = fraction >= 1 ? BudgetLevel.Exhausted : fraction >= WarningFraction ? BudgetLevel.Warning : BudgetLevel.Ok;
        return new BudgetState(usedTokens, TokensPerPeriod, fraction, level, level == BudgetLevel.Exhausted ? AtLimit : null);
    }
}

/// <param name="Action">what to do now: null while sends are allowed</param>
public sealed record BudgetState(long UsedTokens, long LimitTokens, double Fraction, BudgetLevel Level, BudgetAction? Action);

/// <summary>A send refused because the exposure budget is spent.</summary>
public sealed class ExposureBudgetExceededException(BudgetState state)
    : Exception($"the exposure budget is spent: {state.UsedTokens} of {state.LimitTokens} tokens this period; " +
                (state.Action == BudgetAction.LocalOnly ? "completions continue with the local model only" : "cloud completions are blocked until the period ends"))
{
    public BudgetState State { get; } = state;
}
