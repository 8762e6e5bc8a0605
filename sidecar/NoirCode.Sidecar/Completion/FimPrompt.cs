namespace NoirCode.Sidecar.Completion;

/// <summary>
/// A prompt cut from a document (<see cref="PromptBuilder"/>): the ids sent and where the document was cut. Offsets
/// are in the document the builder was given; the text sent is <c>[PrefixStart, Cursor - Healed.Length)</c> and
/// <c>[Cursor, SuffixEnd)</c>.
/// </summary>
/// <param name="Ids">what is sent, control tokens included</param>
/// <param name="TokenisedFrom">where the character cut left the prefix (a line start when there is one): only text
/// from here is tokenised</param>
/// <param name="PrefixStart">where the prefix sent starts, after the token cut (exact unless the cut splits a
/// character into bytes)</param>
/// <param name="Healed">the prefix's end left out of <see cref="Ids"/> for the model to spell again; empty: none</param>
/// <param name="SuffixEnd">where the suffix sent ends</param>
public sealed record FimPrompt(IReadOnlyList<int> Ids, int TokenisedFrom, int PrefixStart, int Cursor, string Healed, int SuffixEnd)
{
    /// <summary>The document text the prompt covers (the healed end included): what the report looks for secrets in.</summary>
    public string Covered(string document) => document[PrefixStart..SuffixEnd];
}
