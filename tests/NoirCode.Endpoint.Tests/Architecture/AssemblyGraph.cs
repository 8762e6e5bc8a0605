using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace NoirCode.Endpoint.Tests.Architecture;

/// <summary>
/// The project's own assemblies an assembly references, directly or through each other, read from the compiled
/// files' metadata (what the runtime would load), not from the project files.
/// </summary>
static class AssemblyGraph
{
    static bool IsOurs(string name) => name.StartsWith("NoirCode.", StringComparison.Ordinal) || name is "noir" or "noir-endpoint";

    public static IReadOnlyList<string> DirectReferences(string assembly)
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, assembly + ".dll"));
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        return reader.AssemblyReferences.Select(h => reader.GetString(reader.GetAssemblyReference(h).Name)).Where(IsOurs).ToList();
    }

    /// <summary>Every assembly of ours reachable from <paramref name="assembly"/> (itself excluded).</summary>
    public static IReadOnlySet<string> TransitiveReferences(string assembly)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var todo = new Stack<string>(DirectReferences(assembly));
        while (todo.Count > 0)
        {
            var next = todo.Pop();
            if (seen.Add(next)) foreach (var r in DirectReferences(next)) todo.Push(r);
        }
        return seen;
    }
}
