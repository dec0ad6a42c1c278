namespace BaloyiBank.Lake.Blob.Tests;

/// <summary>Shared Key signing against the documented string-to-sign and an independently computed signature.</summary>
public sealed class SharedKeyPolicyTests
{
    // The example of "Authorize with Shared Key" (Blob service, Get Container Metadata).
    private const string DocumentedStringToSign =
        "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20";

    [Fact]
    public void The_string_to_sign_of_the_documented_example_is_reproduced_exactly()
    {
        var toSign = SharedKeyPolicy.StringToSign("GET", "/mycontainer", "?restype=container&comp=metadata&timeout=20", 0,
            [("x-ms-version", "2015-02-21"), ("x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"), ("User-Agent", "ignored")], "myaccount");

        Assert.Equal(DocumentedStringToSign, toSign);
    }

    [Fact]
    public void The_signature_matches_a_vector_computed_with_nodes_crypto()
    {
        // node -e "crypto.createHmac('sha256', Buffer.from(key, 'base64')).update(stringToSign).digest('base64')" with Azurite's published key.
        var key = Convert.FromBase64String(BlobLakeOptions.AzuriteAccountKey);

        Assert.Equal("1u9lui2jDxj0+fpbHjQ5m5NnastJRSYM+PSmfi8TXx4=", SharedKeyPolicy.Sign(key, DocumentedStringToSign));
    }

    [Fact]
    public void Standard_headers_take_their_places_and_x_ms_headers_are_lowercased_sorted_and_trimmed()
    {
        var toSign = SharedKeyPolicy.StringToSign("put", "/devstoreaccount1/lake/silver/p%3D3/a%20b.json", "?comp=block&blockid=YWJj%2BZA%3D%3D", 42,
        [
            ("If-None-Match", "*"),
            ("Content-Type", "application/json"),
            ("X-MS-Version", "2025-01-05"),
            ("x-ms-blob-type", " BlockBlob "),
            ("x-ms-date", "Tue, 01 Dec 2026 10:00:00 GMT"),
            ("x-ms-meta-note", "two   spaces"),
        ], "devstoreaccount1");

        Assert.Equal(
            "PUT\n\n\n42\n\napplication/json\n\n\n\n*\n\n\n" +
            "x-ms-blob-type:BlockBlob\nx-ms-date:Tue, 01 Dec 2026 10:00:00 GMT\nx-ms-meta-note:two spaces\nx-ms-version:2025-01-05\n" +
            "/devstoreaccount1/devstoreaccount1/lake/silver/p%3D3/a%20b.json\nblockid:YWJj+ZA==\ncomp:block",
            toSign);
    }

    [Fact]
    public void A_zero_content_length_signs_as_empty()
    {
        var toSign = SharedKeyPolicy.StringToSign("PUT", "/c/b", "", 0, [], "acct");

        Assert.Equal("PUT\n\n\n\n\n\n\n\n\n\n\n\n/acct/c/b", toSign);
    }
}
