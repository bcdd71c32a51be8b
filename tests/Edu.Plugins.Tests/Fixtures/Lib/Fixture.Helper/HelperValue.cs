namespace Fixture.Helper;

public static class HelperValue
{
    public static string Id => "helper";
}
