// Makes TorchSharp's native bridge load on systems whose libstdc++ is older than the one it was built against.
//
// libLibTorchSharp.so (TorchSharp 0.107.0) was linked by GCC 13 and so asks for GLIBCXX_3.4.32, which
// Debian 12's libstdc++ (GCC 12, up to 3.4.30) lacks. Exactly one symbol carries that version:
// std::ios_base_library_init(), which GCC 13 headers reference only to pull in the library's own stream
// initialisation; it has no relocation, so the loader never resolves it. The streams are still initialised
// by the std::ios_base::Init objects of libtorch_cpu.so (built with older headers).
// The loader refuses the library because of the version-needed entry alone, so this patch
// (1) clears the version of the symbols that need a missing version (VER_NDX_GLOBAL) and
// (2) unlinks that version's entry from the .gnu.version_r chain.
// It is idempotent, leaves the file untouched when nothing is missing, and refuses anything it does not
// know to be safe (an unexpected symbol needing a missing version, or a relocation against it).
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace NoirCode.Build
{
    public static class LibStdCxxVersionPatch
    {
        // Symbols known to be safe to unversion: referenced only to force a link-time dependency.
        static readonly HashSet<string> SafeSymbols = new HashSet<string> { "_ZSt21ios_base_library_initv" };

        const uint ShtRela = 4, ShtDynsym = 11, ShtVerneed = 0x6ffffffe, ShtVersym = 0x6fffffff;

        /// <summary>GLIBCXX_* version names a libstdc++ binary provides (read from its string table).</summary>
        public static HashSet<string> ProvidedVersions(byte[] libstdcxx)
        {
            var found = new HashSet<string>();
            var marker = Encoding.ASCII.GetBytes("GLIBCXX_");
            for (int i = 0; i + marker.Length < libstdcxx.Length; i++)
            {
                int j = 0;
                while (j < marker.Length && libstdcxx[i + j] == marker[j]) j++;
                if (j < marker.Length) continue;
                int end = i + marker.Length;
                while (end < libstdcxx.Length && (char.IsDigit((char)libstdcxx[end]) || libstdcxx[end] == '.')) end++;
                if (end < libstdcxx.Length && libstdcxx[end] == 0 && end > i + marker.Length)
                    found.Add(Encoding.ASCII.GetString(libstdcxx, i, end - i));
            }
            return found;
        }

        /// <summary>Patches <paramref name="elf"/> in place. Returns the version names removed (empty: nothing to do).</summary>
        public static List<string> Patch(byte[] elf, ISet<string> providedVersions)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F' || elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("not a 64-bit little-endian ELF file");
            ulong shoff = U64(elf, 0x28);
            int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
            long dynsymOff = -1, dynsymSize = 0, versymOff = -1, verneedOff = -1; int dynstrIndex = -1, verneedCount = 0;
            var relaSections = new List<(long off, long size)>();
            for (int s = 0; s < shnum; s++)
            {
                int h = checked((int)shoff + s * shentsize);
                uint type = U32(elf, h + 4);
                long off = (long)U64(elf, h + 0x18), size = (long)U64(elf, h + 0x20);
                if (type == ShtDynsym) { dynsymOff = off; dynsymSize = size; dynstrIndex = (int)U32(elf, h + 0x28); }
                else if (type == ShtVersym) versymOff = off;
                else if (type == ShtVerneed) { verneedOff = off; verneedCount = (int)U32(elf, h + 0x2C); }
                else if (type == ShtRela) relaSections.Add((off, size));
            }
            var removed = new List<string>();
            if (dynsymOff < 0 || versymOff < 0 || verneedOff < 0) return removed;
            long dynstrOff = (long)U64(elf, checked((int)shoff + dynstrIndex * shentsize + 0x18));

            int vn = (int)verneedOff;
            for (int n = 0; n < verneedCount; n++)
            {
                string file = Str(elf, dynstrOff + U32(elf, vn + 4));
                int cnt = U16(elf, vn + 2);
                int prevAux = -1, aux = vn + (int)U32(elf, vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    int next = (int)U32(elf, aux + 12);
                    string name = Str(elf, dynstrOff + U32(elf, aux + 8));
                    bool missing = file.StartsWith("libstdc++", StringComparison.Ordinal)
                        && name.StartsWith("GLIBCXX_", StringComparison.Ordinal) && !providedVersions.Contains(name);
                    if (missing && cnt > 1)
                    {
                        ushort index = (ushort)U16(elf, aux + 6);
                        UnversionSymbols(elf, dynsymOff, dynsymSize, versymOff, dynstrOff, relaSections, index, name);
                        // Unlink this auxiliary entry: the previous one (or the verneed head) skips over it.
                        if (prevAux < 0) W32(elf, vn + 8, next == 0 ? 0 : U32(elf, vn + 8) + (uint)next);
                        else W32(elf, prevAux + 12, next == 0 ? 0 : U32(elf, prevAux + 12) + (uint)next);
                        W16(elf, vn + 2, (ushort)(U16(elf, vn + 2) - 1));
                        removed.Add(name);
                    }
                    else prevAux = aux;
                    if (next == 0) break;
                    aux += next;
                }
                uint vnNext = U32(elf, vn + 12);
                if (vnNext == 0) break;
                vn += (int)vnNext;
            }
            return removed;
        }

        static void UnversionSymbols(byte[] elf, long dynsymOff, long dynsymSize, long versymOff, long dynstrOff,
            List<(long off, long size)> relaSections, ushort versionIndex, string versionName)
        {
            long count = dynsymSize / 24;
            for (long i = 0; i < count; i++)
            {
                int vs = checked((int)(versymOff + i * 2));
                if ((U16(elf, vs) & 0x7fff) != versionIndex) continue;
                string sym = Str(elf, dynstrOff + U32(elf, checked((int)(dynsymOff + i * 24))));
                if (!SafeSymbols.Contains(sym))
                    throw new InvalidDataException($"symbol {sym} needs {versionName}, which this system's libstdc++ lacks; only {string.Join(", ", SafeSymbols)} is known to be safe to unversion");
                foreach (var (off, size) in relaSections)
                    for (long r = 0; r < size / 24; r++)
                        if ((U64(elf, checked((int)(off + r * 24 + 8))) >> 32) == (ulong)i)
                            throw new InvalidDataException($"symbol {sym} has a relocation; unversioning it would not be safe");
                W16(elf, vs, 1); // VER_NDX_GLOBAL: any definition will do (none is ever looked up)
            }
        }

        static string Str(byte[] b, long off)
        {
            int end = (int)off;
            while (b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, (int)off, end - (int)off);
        }
        static int U16(byte[] b, int o) => b[o] | b[o + 1] << 8;
        static uint U32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        static ulong U64(byte[] b, int o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;
        static void W16(byte[] b, int o, ushort v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }
        static void W32(byte[] b, int o, uint v) { for (int k = 0; k < 4; k++) b[o + k] = (byte)(v >> (8 * k)); }
    }
}

#if !NOIR_PATCH_NO_MSBUILD
namespace NoirCode.Build
{
    /// <summary>MSBuild task: applies <see cref="LibStdCxxVersionPatch"/> to each native library given.</summary>
    public class PatchLibStdCxxVersion : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        static readonly string[] LibStdCxxCandidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };

        public override bool Execute()
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux)) return true;
            string system = Array.Find(LibStdCxxCandidates, File.Exists);
            if (string.IsNullOrEmpty(system))
            {
                Log.LogWarning("NoirCode: no system libstdc++.so.6 found; TorchSharp's native library left unpatched");
                return true;
            }
            var provided = LibStdCxxVersionPatch.ProvidedVersions(File.ReadAllBytes(system));
            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                if (!File.Exists(path)) continue;
                try
                {
                    byte[] elf = File.ReadAllBytes(path);
                    var removed = LibStdCxxVersionPatch.Patch(elf, provided);
                    if (removed.Count == 0) continue;
                    // Keep the timestamp so incremental copies do not bring the unpatched file back needlessly.
                    DateTime stamp = File.GetLastWriteTimeUtc(path);
                    File.WriteAllBytes(path, elf);
                    File.SetLastWriteTimeUtc(path, stamp);
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                        $"NoirCode: {path}: removed need for {string.Join(", ", removed)} (system libstdc++ lacks it)");
                }
                catch (Exception e)
                {
                    Log.LogError($"NoirCode: cannot patch {path} to load with this system's libstdc++: {e.Message}");
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
}
#endif
