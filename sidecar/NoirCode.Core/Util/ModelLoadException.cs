namespace NoirCode.Core.Util;

/// <summary>
/// A problem with a model folder or one of its files, worded for the person who gave us the folder:
/// it names the file and says what is wrong with it. Callers print <see cref="Exception.Message"/> alone.
/// </summary>
public sealed class ModelLoadException : Exception
{
    public string? FilePath { get; }

    public ModelLoadException(string? filePath, string problem, Exception? inner = null)
        : base(filePath == null ? problem : $"{Path.GetFileName(filePath)}: {problem} ({filePath})", inner)
    {
        FilePath = filePath;
    }
}
