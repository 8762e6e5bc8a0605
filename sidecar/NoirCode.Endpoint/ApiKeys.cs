using System.Security.Cryptography;
using System.Text;

namespace NoirCode.Endpoint;

/// <summary>
/// The --auth file, owner-only (mode 600): one "KEY TENANT" pair per line (# comments), where KEY is the API key
/// itself (16+ characters) or, better, its salted hash "sha256:SALT:HASH" (hex; HASH = SHA-256(SALT ‖ key), made
/// by `noir cloud hash-key`), so a copy of the file gives no key away. Plain keys are salted the same way on
/// loading, so memory holds no key either. Every check hashes against every entry (constant time, whichever
/// matches); a key listed twice is refused (it would be ambiguous which tenant it is); the file's contents are
/// never logged.
/// </summary>
public sealed class ApiKeys
{
    public const string LocalTenant = "local";
    const string HashedPrefix = "sha256:";
    readonly List<(byte[] Salt, byte[] Hash, string Tenant)> _keys = new();

    static byte[] SaltedHash(byte[] salt, string key) => SHA256.HashData(salt.Concat(Encoding.UTF8.GetBytes(key)).ToArray());
    public bool Required => _keys.Count > 0;
    /// <summary>How many tenants hold keys (1 without keys: the local tenant).</summary>
    public int TenantCount => Required ? _keys.Select(k => k.Tenant).Distinct().Count() : 1;

    public static ApiKeys None => new();

    /// <summary>The file line for a key, without the key: "sha256:SALT:HASH" with a fresh random salt.</summary>
    public static string HashedForm(string key)
    {
        if (key.Length < 16 || key.Any(char.IsWhiteSpace)) throw new ArgumentException("an API key has 16 or more characters and no spaces");
        var salt = RandomNumberGenerator.GetBytes(16);
        return $"{HashedPrefix}{Convert.ToHexStringLower(salt)}:{Convert.ToHexStringLower(SaltedHash(salt, key))}";
    }

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
        return Parse(File.ReadAllLines(path), path);
    }

    /// <summary>The lines of an environment variable (readable only by this user and root), for --auth-env.</summary>
    public static ApiKeys FromEnvironment(string variable) =>
        Parse((Environment.GetEnvironmentVariable(variable) ?? throw new ArgumentException($"--auth-env: the environment variable {variable} is not set"))
            .Split('\n'), $"${variable}");

    static ApiKeys Parse(IEnumerable<string> lines, string path)
    {
        var keys = new ApiKeys();
        var plainKeys = new List<string>(); // this load's plain keys, only to find duplicates; dropped on return
        int lineNo = 0;
        foreach (var raw in lines)
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            string Where() => $"{path}:{lineNo}";
            if (parts.Length != 2 || parts[0].Length < 16 || !IsTenantName(parts[1]))
                throw new FormatException($"{Where()}: expected 'KEY TENANT' (a key of 16+ characters or its sha256:SALT:HASH form, a tenant of letters, digits, - or _)");
            (byte[] Salt, byte[] Hash) entry;
            if (parts[0].StartsWith(HashedPrefix, StringComparison.Ordinal))
            {
                var fields = parts[0][HashedPrefix.Length..].Split(':');
                try { entry = (Convert.FromHexString(fields[0]), Convert.FromHexString(fields.Length == 2 ? fields[1] : "")); }
                catch (FormatException) { entry = (Array.Empty<byte>(), Array.Empty<byte>()); }
                if (fields.Length != 2 || entry.Salt.Length < 8 || entry.Hash.Length != 32)
                    throw new FormatException($"{Where()}: a hashed key is sha256:SALT:HASH in hex (a salt of 8+ bytes, a 32-byte hash); make one with 'noir cloud hash-key'");
                if (keys._keys.Any(k => k.Salt.AsSpan().SequenceEqual(entry.Salt) && k.Hash.AsSpan().SequenceEqual(entry.Hash))
                    || plainKeys.Any(k => CryptographicOperations.FixedTimeEquals(SaltedHash(entry.Salt, k), entry.Hash)))
                    throw new FormatException($"{Where()}: this API key is already listed on an earlier line; every tenant needs its own key");
            }
            else
            {
                if (keys._keys.Any(k => CryptographicOperations.FixedTimeEquals(SaltedHash(k.Salt, parts[0]), k.Hash)))
                    throw new FormatException($"{Where()}: this API key is already listed on an earlier line; every tenant needs its own key");
                var salt = RandomNumberGenerator.GetBytes(16);
                entry = (salt, SaltedHash(salt, parts[0]));
                plainKeys.Add(parts[0]);
            }
            keys._keys.Add((entry.Salt, entry.Hash, parts[1]));
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
        string? tenant = null;
        foreach (var (salt, hash, t) in _keys) if (CryptographicOperations.FixedTimeEquals(SaltedHash(salt, key), hash)) tenant = t;
        return tenant;
    }
}
