namespace NoirCode.Core.Tokenization;

/// <summary>
/// GPT-2's reversible map from bytes to printable characters, used by every byte-level BPE vocabulary
/// (GPT-2, Qwen2, DeepSeek-Coder, StarCoder): printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.
/// </summary>
public static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = Build();

    static char[] Build()
    {
        var map = new char[256];
        bool Printable(int b) => (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        int next = 0;
        for (int b = 0; b < 256; b++) map[b] = Printable(b) ? (char)b : (char)(256 + next++);
        return map;
    }

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }
}
