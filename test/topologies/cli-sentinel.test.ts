import { describeCliOn } from './cli-suite.js';

describeCliOn('Sentinel');
