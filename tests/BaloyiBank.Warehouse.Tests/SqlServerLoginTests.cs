using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Warehouse.Tests;

/// <summary>A token source that counts the tokens asked for (no token ever leaves this machine in the tests).</summary>
public sealed class CountingCredential : TokenCredential
{
    private int calls;

    public int Calls => Volatile.Read(ref calls);

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref calls);
        return new AccessToken("test-token", DateTimeOffset.MaxValue);
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}

/// <summary>Hands every category the same logger, so a test sees what a factory-built component logs.</summary>
public sealed class OneLoggerFactory(ILogger logger) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}

public sealed class SqlServerLoginTests
{
    private const string Server = "Server=tcp:bank.database.windows.net,1433;Database=bank;Encrypt=True";

    [Fact]
    public void A_password_login_is_left_as_it_is()
    {
        var cs = $"{Server};User ID=sink;Password=s3cret";

        var login = SqlServerLogin.Resolve(cs);

        Assert.Equal((cs, (TokenCredential?)null), (login.ConnectionString, login.Credential));
        Assert.DoesNotContain("s3cret", login.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Managed_identity_in_the_connection_string_becomes_a_token_callback_for_the_named_identity()
    {
        var login = SqlServerLogin.Resolve($"{Server};Authentication=Active Directory Managed Identity;User Id=6a1f0c1e-0000-4000-8000-000000000001");

        Assert.IsType<ManagedIdentityCredential>(login.Credential);
        Assert.DoesNotContain("Authentication", login.ConnectionString, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("6a1f0c1e", login.ConnectionString, StringComparison.Ordinal);
        Assert.Contains("bank.database.windows.net", login.ConnectionString, StringComparison.Ordinal);
        Assert.NotNull(login.TokenCallback());
    }

    [Theory]
    [InlineData("Active Directory Default", typeof(DefaultAzureCredential))]
    [InlineData("Active Directory MSI", typeof(ManagedIdentityCredential))]
    [InlineData("Active Directory Workload Identity", typeof(WorkloadIdentityCredential))]
    public void Each_supported_entra_keyword_picks_its_azure_identity_credential(string method, Type credential)
    {
        var login = SqlServerLogin.Resolve($"{Server};Authentication={method}");

        Assert.IsType(credential, login.Credential);
        Assert.DoesNotContain("Authentication", login.ConnectionString, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_given_credential_wins_over_the_keyword()
    {
        var mine = new CountingCredential();

        Assert.Same(mine, SqlServerLogin.Resolve($"{Server};Authentication=Active Directory Default", mine).Credential);
        var managed = SqlServerLogin.Resolve($"{Server};User ID=sink", mine);
        Assert.Same(mine, managed.Credential);
        // The driver refuses a token beside a user name.
        Assert.DoesNotContain("sink", managed.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_callback_asks_for_the_resource_the_server_names()
    {
        var credential = new ScopeCredential();
        var callback = new SqlServerLogin(Server, credential).TokenCallback()!;

        var token = await callback(new Microsoft.Data.SqlClient.SqlAuthenticationParameters(
            Microsoft.Data.SqlClient.SqlAuthenticationMethod.ActiveDirectoryManagedIdentity, "bank.database.windows.net", "bank",
            "https://sql.azuresynapse.net/", "https://login.microsoftonline.com/tenant", null, null, Guid.NewGuid(), 15), CancellationToken.None);

        Assert.Equal("token-for-https://sql.azuresynapse.net/.default", token.AccessToken);
        Assert.Equal("https://database.windows.net/.default", SqlServerLogin.Scope("https://database.windows.net/"));
        Assert.Equal("https://database.windows.net/.default", SqlServerLogin.Scope("https://database.windows.net/.default"));
    }

    [Theory]
    [InlineData("Active Directory Password")]
    [InlineData("Active Directory Interactive")]
    [InlineData("Active Directory Service Principal")]
    public void Other_entra_methods_are_refused_with_the_fix(string method)
    {
        var error = Assert.Throws<ArgumentException>(() => SqlServerLogin.Resolve($"{Server};Authentication={method};User Id=a;Password=s3cret"));

        Assert.StartsWith("Warehouse:ConnectionString asks for Authentication=ActiveDirectory", error.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: use Authentication=Active Directory Managed Identity", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_beside_a_password_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => SqlServerLogin.Resolve($"{Server};Authentication=Active Directory Default;Password=s3cret"));

        Assert.Contains("password or Integrated Security beside a Microsoft Entra login. Fix: remove Password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_validator_reports_login_problems_at_start_up_without_the_secret()
    {
        var validator = new WarehouseOptionsValidator();

        var entraPassword = validator.Validate(null, new WarehouseOptions { Kind = "sqlserver", ConnectionString = $"{Server};Authentication=Active Directory Password;User Id=a;Password=s3cret" });
        var managedWithPassword = validator.Validate(null, new WarehouseOptions { Kind = "synapse", UseManagedIdentity = true, ConnectionString = $"{Server};User Id=a;Password=s3cret" });
        var badClientId = validator.Validate(null, new WarehouseOptions { Kind = "sqlserver", ManagedIdentityClientId = "not-a-guid", ConnectionString = Server });

        var failure = Assert.Single(entraPassword.Failures!);
        Assert.StartsWith("Warehouse:ConnectionString asks for Authentication=ActiveDirectoryPassword, which this build does not support", failure, StringComparison.Ordinal);
        Assert.Contains(". Fix: use Authentication=Active Directory Managed Identity", failure, StringComparison.Ordinal);
        Assert.StartsWith("Warehouse:ConnectionString has a password or Integrated Security beside a Microsoft Entra login. Fix: ", Assert.Single(managedWithPassword.Failures!), StringComparison.Ordinal);
        Assert.StartsWith("Warehouse:ManagedIdentityClientId must be a client id", Assert.Single(badClientId.Failures!), StringComparison.Ordinal);
        Assert.DoesNotContain(entraPassword.Failures!.Concat(managedWithPassword.Failures!), f => f.Contains("s3cret", StringComparison.Ordinal));
        Assert.True(validator.Validate(null, new WarehouseOptions { Kind = "synapse", UseManagedIdentity = true, ConnectionString = Server }).Succeeded);
    }

    [Fact]
    public async Task A_password_login_ignores_a_credential_from_the_host()
    {
        await using var warehouse = WarehouseFactory.Create(new WarehouseOptions { Kind = "sqlserver", ConnectionString = $"{Server};User Id=a;Password=p" }, credential: new CountingCredential());

        Assert.Null(((SqlServerWarehouse)((ResilientWarehouse)warehouse).Inner).Login.Credential);
    }

    private sealed class ScopeCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new($"token-for-{string.Join(' ', requestContext.Scopes)}", DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
