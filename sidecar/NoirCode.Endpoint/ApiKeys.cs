using System.Security.Cryptography;
using System.Text;

namespace NoirCode.Endpoint;

/// <summary>
/// The --auth file: one "API_KEY TENANT" pair per line (# comments). Keys are compared by their SHA-256 in
/// constant time; the file's contents are never logged.
/// </summary>
public sealed class ApiKeys
{
    public const string LocalTenant = "local";
    readonly List<(byte[] Hash, string Tenant)> _keys = new();
    public bool Required => _keys.Count > 0;

    public static ApiKeys None => new();

    public static ApiKeys Load(string path)
    {
        var keys = new ApiKeys();
        int lineNo = 0;
        foreach (var raw in File.ReadAllLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[0].Length < 16 || !IsTenantName(parts[1]))
                throw new FormatException($"{path}:{lineNo}: expected 'API_KEY TENANT' (a key of 16+ characters, a tenant of letters, digits, - or _)");
            keys._keys.Add((SHA256.HashData(Encoding.UTF8.GetBytes(parts[0])), parts[1]));
        }
        if (keys._keys.Count == 0) throw new FormatException($"{path} holds no API keys");
        return keys;
    }

    public static bool IsTenantName(string s) => s.Length is > 0 and <= 64 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <returns>the tenant, or null when the key is unknown</returns>
    public string? TenantFor(string? key)
    {
        if (!Required) return LocalTenant;
        if (string.IsNullOrEmpty(key)) return null;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        string? tenant = null;
        foreach (var (h, t) in _keys) if (CryptographicOperations.FixedTimeEquals(h, hash)) tenant = t;
        return tenant;
    }
}
