import { describeCliOn } from './cli-suite.js';

describeCliOn('standalone');
