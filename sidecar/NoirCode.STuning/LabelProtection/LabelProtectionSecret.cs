using System.Runtime.InteropServices;
using System.Security.Cryptography;
using NoirCode.Privacy.Keys;

namespace NoirCode.STuning.LabelProtection;

/// <summary>
/// The 32-byte secret behind STuning's loss mask and gradient noise: a hash of the key set's secret tables under
/// a domain label and the tuning run's nonce, so it is as secret as the keys, the same for the same keys and run
/// (a resumed run redraws the same mask and noise), unrelated across keys, and fresh for every new run under the
/// same keys (reused noise would cancel in the difference of two runs' gradients). Separate from the key file.
/// </summary>
public static class LabelProtectionSecret
{
    const string Domain = "noir/stuning-label-protection/v1";

    /// <summary>A new run's nonce (kept in the owner-only tuning state, so a resumed run finds it).</summary>
    public static string NewRunNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static byte[] Derive(PrivacyKeys keys, string runNonce)
    {
        if (string.IsNullOrEmpty(runNonce)) throw new ArgumentException("the tuning run's nonce is missing");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(Domain));
        // Hashed in place: a homophonic key's tables can be hundreds of megabytes.
        hash.AppendData(MemoryMarshal.AsBytes(keys.Permutation.Forward.ToArray().AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(keys.IndexedTable.AsSpan()));
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(runNonce));
        return hash.GetHashAndReset();
    }
}
