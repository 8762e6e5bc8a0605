namespace NoirCode.Privacy;

/// <summary>
/// The paper's optional hardening (§9): a fresh random string of up to 8 characters before each request,
/// so that a persistent template does not sit at the same positions in every prompt. Off by default; its
/// effect on utility and on clustering attacks is measured by the attack harness.
/// </summary>
public static class DynamicPrefix
{
    const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@?!$%&*+=~^";
    public const int MaxLength = 8;

    /// <summary>1 to <paramref name="maxLength"/> characters from the OS CSPRNG.</summary>
    public static string Create(int maxLength = MaxLength)
    {
        if (maxLength < 1 || maxLength > 64) throw new ArgumentOutOfRangeException(nameof(maxLength));
        using var rng = new CtrRandom(CtrRandom.NewKey());
        int length = 1 + rng.NextInt(maxLength);
        return new string(Enumerable.Range(0, length).Select(_ => Alphabet[rng.NextInt(Alphabet.Length)]).ToArray());
    }

    /// <summary>The code before the cursor with a comment line holding the random string in front of it.</summary>
    public static string ApplyToCode(string prefix, string lineComment = "#", int maxLength = MaxLength) =>
        $"{lineComment} <{Create(maxLength)}>\n{prefix}";
}
