import { addressKey } from './address-key';

describe(addressKey.name, () => {
  it('should keep an IPv4 address as it is', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
  });

  it('should count an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
  });

  it('should count every address of one IPv6 /64 as one', () => {
    const keys = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:db8:1:2::1%eth0'].map(addressKey);
    expect(new Set(keys)).toEqual(new Set(['2001:0db8:0001:0002::/64']));
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:0db8:0001:0003::/64');
  });

  it('should expand a leading or trailing ::', () => {
    expect(addressKey('::1')).toBe('0000:0000:0000:0000::/64');
    expect(addressKey('fe80::')).toBe('fe80:0000:0000:0000::/64');
  });
});
