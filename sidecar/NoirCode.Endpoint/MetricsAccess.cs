using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace NoirCode.Endpoint;

/// <summary>
/// Who may read /metrics. Its counters are per endpoint, not per tenant, but with several tenants they still tell
/// one tenant the others' token counts and typing cadence, so: with a metrics token (--metrics-token-file), only a
/// request bearing it; without one, only a loopback endpoint without API keys (one user, who can use the whole
/// endpoint anyway); otherwise /metrics is not served.
/// </summary>
public sealed class MetricsAccess
{
    readonly byte[]? _tokenHash;
    readonly bool _open;

    MetricsAccess(byte[]? tokenHash, bool open) { _tokenHash = tokenHash; _open = open; }

    public static MetricsAccess For(EndpointOptions o)
    {
        if (o.MetricsTokenFile is { } file) return new MetricsAccess(SHA256.HashData(Encoding.UTF8.GetBytes(ReadToken(file))), false);
        return new MetricsAccess(null, open: !o.HasAuth && o.IsLocal);
    }


    /// <summary>The token file: owner-only (as the API-key file), one token of 16 or more characters.</summary>
    public static string ReadToken(string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"metrics token file {file} does not exist");
        ApiKeys.CheckOwnerOnly(file, "metrics token file");
        string token = File.ReadAllText(file).Trim();
        if (token.Length < 16 || token.Any(char.IsWhiteSpace)) throw new FormatException($"{file}: expected one metrics token of 16 or more characters");
        return token;
    }

    /// <returns>null when the request may read the metrics, else the status code to answer with</returns>
    public int? Refusal(HttpRequest request)
    {
        if (_tokenHash == null) return _open ? null : StatusCodes.Status404NotFound;
        string header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal)) return StatusCodes.Status401Unauthorized;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(hash, _tokenHash) ? null : StatusCodes.Status401Unauthorized;
    }
}
