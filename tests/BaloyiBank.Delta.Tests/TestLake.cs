using BaloyiBank.DuckDb;
using BaloyiBank.Lake;

namespace BaloyiBank.Delta.Tests;

/// <summary>A real folder lake in a fresh temp folder, a scratch folder, and one in-memory DuckDB; all removed on dispose.</summary>
public sealed class TestLake : IDisposable
{
    public TestLake()
    {
        Root = Directory.CreateTempSubdirectory("baloyibank-delta-").FullName;
        Store = new FolderLakeStore(Path.Combine(Root, "lake"));
        Database = DuckDbDatabase.Open(null, new DuckDbConfig { Threads = 2 });
    }

    public string Root { get; }

    public FolderLakeStore Store { get; }

    public DuckDbDatabase Database { get; }

    public string Scratch => Path.Combine(Root, "scratch");

    public DeltaTableOptions Options(int checkpointInterval = 10) => new()
    {
        CheckpointInterval = checkpointInterval,
        TempDirectory = Scratch,
        Database = Database,
    };

    public DeltaTable Table(string path = "silver/transactions", ILakeStore? store = null, int checkpointInterval = 10) =>
        new(store ?? Store, path, Options(checkpointInterval));

    /// <summary>The file behind a lake path, to age it or inspect it.</summary>
    public string FileOf(string lakePath) => Path.Combine(Store.Location, lakePath);

    public void Dispose()
    {
        Database.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans temp later; a leftover must not fail the run.
        }
    }
}
