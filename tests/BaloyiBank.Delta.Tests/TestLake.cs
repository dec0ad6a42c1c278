using BaloyiBank.Lake;
using DuckDB.NET.Data;

namespace BaloyiBank.Delta.Tests;

/// <summary>A real folder lake in a fresh temp folder and a scratch folder, both removed on dispose; DuckDB (DuckDB.NET) to read the files back.</summary>
public sealed class TestLake : IDisposable
{
    public TestLake()
    {
        Root = Directory.CreateTempSubdirectory("baloyibank-delta-").FullName;
        Store = new FolderLakeStore(Path.Combine(Root, "lake"));
    }

    public string Root { get; }

    public FolderLakeStore Store { get; }

    public string Scratch => Path.Combine(Root, "scratch");

    public DeltaTableOptions Options(int checkpointInterval = 10) => new()
    {
        CheckpointInterval = checkpointInterval,
        TempDirectory = Scratch,
    };

    public DeltaTable Table(string path = "silver/transactions", ILakeStore? store = null, int checkpointInterval = 10) =>
        new(store ?? Store, path, Options(checkpointInterval));

    /// <summary>The file behind a lake path, to age it or inspect it.</summary>
    public string FileOf(string lakePath) => Path.Combine(Store.Location, lakePath);

    /// <summary>A fresh in-memory DuckDB (DuckDB.NET), opened, with its session time zone UTC: an independent reader of the files.</summary>
    public static DuckDBConnection Connect()
    {
        var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        connection.Execute("SET TimeZone = 'UTC'");
        return connection;
    }

    public void Dispose()
    {
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
