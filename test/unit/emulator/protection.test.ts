import { expect } from 'chai';
import { defaultConfigDocument, defaultToken, demoPrincipal, parseConfig, protectedConfig } from '../../../src/emulator/config.ts';

describe('emulator principals of an emulator that requires its admin token', () => {
  it('give way to the token\'s holder as the only administrator; the demo principal stays only when asked', () => {
    const given = parseConfig({
      principals: [
        ...(parseConfig(defaultConfigDocument()).principals as object[]),
        { name: 'script', tokens: [defaultToken, 'script-token'], roles: [{ scope: '/', access: 'read' }] },
      ],
    });
    const guarded = protectedConfig(given, 'generated');
    expect(guarded.principals.map((principal) => [principal.name, principal.tokens])).to.deep.equal([
      ['labimages-emulator', ['generated']],
      ['script', ['script-token']],
    ]);
    expect(guarded.principals[0]?.roles).to.deep.equal([{ scope: '/', access: 'write' }]);
    expect(protectedConfig(given, 'generated', true).principals.map((principal) => principal.name)).to.include(demoPrincipal.name);
  });
});
