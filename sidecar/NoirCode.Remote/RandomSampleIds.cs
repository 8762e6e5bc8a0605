using System.Security.Cryptography;

namespace NoirCode.Remote;

/// <summary>
/// Training sample ids the endpoint cannot read anything from: 64 random bits each. An id only pairs a sample's
/// backward pass with its forward pass; a counted id (step·1000 + b) told the endpoint the run's progress and batch size.
/// </summary>
public static class RandomSampleIds
{
    public static ulong Next() => BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
}
