using NoirCode.Core.Util;

namespace NoirCode.Cli;

/// <summary>
/// Turns failures into one line on stderr and an exit code: 2 for a problem with the user's input or files,
/// 70 for a bug. A stack trace appears only with NOIR_DEBUG=1.
/// </summary>
public static class CliErrors
{
    public const int UserError = 2, InternalError = 70;

    public static int Run(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) { return Report(e); }
    }

    public static int Report(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerExceptions[0] : e;
        bool user = inner is ModelLoadException or ArgumentException or IOException or UnauthorizedAccessException or FormatException
            or Privacy.Keys.KeyMismatchException or Privacy.Egress.EgressRejectedException or Privacy.Ledger.ExposureBudgetExceededException
            or Remote.EndpointRequestException or Remote.EndpointUnavailableException;
        Console.Error.WriteLine(user ? $"noir: error: {inner.Message}" : $"noir: internal error ({inner.GetType().Name}): {inner.Message}");
        if (Environment.GetEnvironmentVariable("NOIR_DEBUG") == "1") Console.Error.WriteLine(inner);
        return user ? UserError : InternalError;
    }
}
