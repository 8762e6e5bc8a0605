namespace NoirCode.Privacy.Ledger;

/// <summary>Key: the key's whole life. The volume attacks read a cipher from everything sent under one key, whenever
/// it was sent, so the measured budget is per key, not per day.</summary>
public enum BudgetPeriod { Day, Week, Month, Key }

/// <summary>What happens when the budget is spent: stop completing, or complete with a local full model only.</summary>
public enum BudgetAction { Block, LocalOnly }

public enum BudgetLevel { Ok, Warning, Exhausted }

/// <summary>A limit on tokens sent to the cloud under one key per period. Warns at 80%, acts at 100%: a send is
/// allowed only while used + its tokens ≤ the limit (checked under the ledger lock, <see cref="ExposureLedger.ReserveWithin"/>).</summary>
public sealed record ExposureBudget(long TokensPerPeriod, BudgetPeriod Period = BudgetPeriod.Day, BudgetAction AtLimit = BudgetAction.Block)
{
    public const double WarningFraction = 0.8;

    /// <summary>Start of the period containing <paramref name="now"/> (UTC days; weeks start on Monday; the key's
    /// whole life has no start).</summary>
    public DateTimeOffset PeriodStart(DateTimeOffset now)
    {
        if (Period == BudgetPeriod.Key) return DateTimeOffset.MinValue;
        var d = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return Period switch
        {
            BudgetPeriod.Day => d,
            BudgetPeriod.Week => d.AddDays(-(((int)d.DayOfWeek + 6) % 7)),
            _ => new DateTimeOffset(d.Year, d.Month, 1, 0, 0, 0, TimeSpan.Zero),
        };
    }

    public BudgetState Evaluate(ExposureLedger ledger, string keyId, DateTimeOffset? now = null) =>
        Evaluate(UsedIn(ledger.Totals(), keyId, now ?? DateTimeOffset.UtcNow));

    /// <summary>Tokens charged (sent or reserved) under the key in the period containing <paramref name="now"/>.</summary>
    public long UsedIn(IReadOnlyDictionary<(string Day, string Workspace, string Key), ExposureCount> totals, string keyId, DateTimeOffset now)
    {
        var start = ExposureLedger.Day(PeriodStart(now));
        long used = 0;
        foreach (var (k, v) in totals) if (k.Key == keyId && string.CompareOrdinal(k.Day, start) >= 0) used += v.Tokens;
        return used;
    }

    public BudgetState Evaluate(long usedTokens)
    {
        double fraction = TokensPerPeriod <= 0 ? 1 : (double)usedTokens / TokensPerPeriod;
        var level = fraction >= 1 ? BudgetLevel.Exhausted : fraction >= WarningFraction ? BudgetLevel.Warning : BudgetLevel.Ok;
        return new BudgetState(usedTokens, TokensPerPeriod, fraction, level, level == BudgetLevel.Exhausted ? AtLimit : null) { Period = Period };
    }
}

/// <param name="Action">what to do now: null while sends are allowed</param>
public sealed record BudgetState(long UsedTokens, long LimitTokens, double Fraction, BudgetLevel Level, BudgetAction? Action)
{
    public BudgetPeriod Period { get; init; } = BudgetPeriod.Day;
}

/// <summary>A send refused because it does not fit in what is left of the exposure budget.</summary>
public sealed class ExposureBudgetExceededException(BudgetState state, long requestedTokens = 0)
    : Exception($"the exposure budget is spent: {state.UsedTokens} of {state.LimitTokens} tokens used" +
                (requestedTokens > 0 && state.UsedTokens < state.LimitTokens ? $", and this send needs {requestedTokens}" : "") + "; " +
                (state.Action == BudgetAction.LocalOnly ? "completions continue with the local model only" : "cloud completions are blocked") +
                (state.Period == BudgetPeriod.Key ? " under this key: rotate the keys (and tune again) to send more" : " until the period ends"))
{
    public BudgetState State { get; } = state;
    public long RequestedTokens { get; } = requestedTokens;
}
