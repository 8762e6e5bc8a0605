using System.Security.Cryptography;
using System.Text;
using NoirCode.Privacy.Keys;

namespace NoirCode.Remote;

/// <summary>
/// The name of the endpoint adapter (the tenant's STuning LoRA on the middle blocks) a client runs with: one per
/// privacy key, so that new keys start a fresh adapter instead of one trained on the old cipher. Opaque: a hash of
/// the key id, which tells the endpoint only that two sessions use the same key (it sees that anyway).
/// </summary>
public static class TenantAdapterId
{
    public static string ForKey(string keyId) =>
        "k" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("noircode-tenant-adapter\n" + keyId)))[..16];

    /// <summary>
    /// The adapter a client folder runs with: the one its tuning recorded (a shard tuned before adapters were named
    /// records none and keeps the tenant's unnamed adapter, ""); untuned keys name their key's (untrained: the base
    /// middle); no keys, the unnamed one.
    /// </summary>
    public static string ForClient(string clientFolder, KeyMetadata? keys)
    {
        if (TunedShardBinding.AdapterId(clientFolder) is { } tuned) return tuned;
        return keys == null ? "" : ForKey(keys.KeyId);
    }
}
