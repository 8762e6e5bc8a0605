using System.Text.Json;
using System.Text.Json.Serialization;

namespace NoirCode.Sidecar.Lsp;

// The few Language Server Protocol 3.18 types the sidecar needs (OmniSharp's library is not available here).
// Positions count UTF-16 code units, as C# strings do.

public sealed record Position(int Line, int Character);
public sealed record Range(Position Start, Position End);
public sealed record TextDocumentIdentifier(string Uri);
public sealed record TextDocumentItem(string Uri, string LanguageId, int Version, string Text);
public sealed record VersionedTextDocumentIdentifier(string Uri, int Version);
public sealed record TextDocumentContentChangeEvent(Range? Range, string Text);
public sealed record DidOpenTextDocumentParams(TextDocumentItem TextDocument);
public sealed record DidChangeTextDocumentParams(VersionedTextDocumentIdentifier TextDocument, TextDocumentContentChangeEvent[] ContentChanges);
public sealed record DidCloseTextDocumentParams(TextDocumentIdentifier TextDocument);

public sealed record SelectedCompletionInfo(Range Range, string Text);
/// <param name="TriggerKind">1 = invoked (explicit), 2 = automatic (typing)</param>
public sealed record InlineCompletionContext(int TriggerKind, SelectedCompletionInfo? SelectedCompletionInfo);
public sealed record InlineCompletionParams(TextDocumentIdentifier TextDocument, Position Position, InlineCompletionContext? Context);
public sealed record InlineCompletionItem(string InsertText, Range? Range);
public sealed record InlineCompletionList(InlineCompletionItem[] Items);

public sealed record ExecuteCommandParams(string Command, JsonElement[]? Arguments);
public sealed record GenerateFunctionArguments(string Uri, Position? Position, Range? Range, string? Instruction);
public sealed record GeneratedFunction(string Text, Range Range);

public sealed record InitializeParams(int? ProcessId, JsonElement? InitializationOptions, JsonElement? Capabilities, string? RootUri);
public sealed record DidChangeConfigurationParams(JsonElement Settings);

public sealed record ServerInfo(string Name, string Version);
public sealed record InitializeResult(JsonElement Capabilities, ServerInfo ServerInfo);

public static class LspJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
