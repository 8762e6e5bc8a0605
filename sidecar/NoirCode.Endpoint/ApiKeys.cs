using System.Security.Cryptography;
using System.Text;

namespace NoirCode.Endpoint;

/// <summary>
/// The --auth file: one "API_KEY TENANT" pair per line (# comments), owner-only (mode 600). Keys are held only
/// as HMAC-SHA256 under a random salt of this process (a memory dump gives no key, and no precomputed table
/// matches) and compared in constant time; a key listed twice is refused (it would be ambiguous which tenant it
/// is); the file's contents are never logged.
/// </summary>
public sealed class ApiKeys
{
    public const string LocalTenant = "local";
    readonly byte[] _salt = RandomNumberGenerator.GetBytes(32);
    readonly List<(byte[] Hash, string Tenant)> _keys = new();

    byte[] Hash(string key) => HMACSHA256.HashData(_salt, Encoding.UTF8.GetBytes(key));
    public bool Required => _keys.Count > 0;

    public static ApiKeys None => new();

    /// <summary>Secrets in a file others can read are not secret: refused, as ssh refuses such keys.</summary>
    public static void CheckOwnerOnly(string path, string what)
    {
        if (OperatingSystem.IsWindows()) return;
        if ((File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            throw new UnauthorizedAccessException($"{what} {path} is readable or writable by other users; chmod 600 {path}");
    }

    public static ApiKeys Load(string path)
    {
        CheckOwnerOnly(path, "API key file");
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
            var hash = keys.Hash(parts[0]);
            if (keys._keys.Any(k => CryptographicOperations.FixedTimeEquals(k.Hash, hash)))
                throw new FormatException($"{path}:{lineNo}: this API key is already listed on an earlier line; every tenant needs its own key");
            keys._keys.Add((hash, parts[1]));
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
        var hash = Hash(key);
        string? tenant = null;
        foreach (var (h, t) in _keys) if (CryptographicOperations.FixedTimeEquals(h, hash)) tenant = t;
        return tenant;
    }
}
