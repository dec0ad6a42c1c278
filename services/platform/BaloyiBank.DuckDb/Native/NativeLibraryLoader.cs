using System.Reflection;
using System.Runtime.InteropServices;

namespace BaloyiBank.DuckDb.Native;

/// <summary>
/// Loads libduckdb from beside the application (where the build copies it) before the first
/// P/Invoke, so a missing file fails with a message that says what to do instead of the
/// runtime's generic probing error.
/// </summary>
internal static class NativeLibraryLoader
{
    /// <summary>Overrides the search with an explicit file (e.g. a system-wide install).</summary>
    internal const string PathVariable = "DUCKDB_LIBRARY_PATH";

    private static readonly Lock Gate = new();
    private static nint library;

    static NativeLibraryLoader() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    internal static string FileName =>
        OperatingSystem.IsWindows() ? "duckdb.dll"
        : OperatingSystem.IsMacOS() ? "libduckdb.dylib"
        : "libduckdb.so";

    /// <summary>Loads the library once; throws <see cref="DllNotFoundException"/> with guidance.</summary>
    internal static void EnsureLoaded() => _ = Load();

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == "duckdb" ? Load() : 0;

    private static nint Load()
    {
        lock (Gate)
        {
            if (library != 0)
            {
                return library;
            }

            var candidates = Candidates();
            Exception? loadError = null;
            foreach (var candidate in candidates)
            {
                if (!File.Exists(candidate))
                {
                    continue;
                }

                try
                {
                    library = NativeLibrary.Load(candidate);
                    return library;
                }
                catch (DllNotFoundException ex)
                {
                    // The file exists but cannot load (wrong architecture, missing libc, ...).
                    loadError = ex;
                }
            }

            // Last, the loader's own search (LD_LIBRARY_PATH, system folders).
            if (loadError is null && NativeLibrary.TryLoad(FileName, out library))
            {
                return library;
            }

            var found = loadError is null ? string.Empty : $" A file was found but failed to load: {loadError.Message}";
            throw new DllNotFoundException(
                $"DuckDB's native library could not be loaded. Looked for {string.Join(", ", candidates.Select(c => $"'{c}'"))} " +
                $"and '{FileName}' on the system library path.{found} Get it with deploy/local/fetch-duckdb.sh " +
                "(or just `dotnet build`, which runs it and copies it beside the assemblies), " +
                $"or point {PathVariable} at an existing file.",
                loadError);
        }
    }

    private static List<string> Candidates()
    {
        List<string> candidates = [];
        var overridden = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(overridden))
        {
            candidates.Add(Path.GetFullPath(overridden));
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, FileName));
        var assemblyDirectory = Path.GetDirectoryName(typeof(NativeLibraryLoader).Assembly.Location);
        if (!string.IsNullOrEmpty(assemblyDirectory))
        {
            candidates.Add(Path.Combine(assemblyDirectory, FileName));
        }

        return [.. candidates.Distinct(StringComparer.Ordinal)];
    }
}
