namespace BaloyiBank.EventLog.RabbitMq.Tests.Contract;

/// <summary>A temporary folder removed at dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("baloyi-rabbitmq-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
